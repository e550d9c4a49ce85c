/**
 * Test fixture for AgentCore on the shared real cluster: installs the session CRDs, gives each test file
 * its own namespace, starts real agentcore replicas in-process, and creates session CRs the way agentcore
 * does (for tests of reads, activity and GC that must not depend on the controllers).
 */
import { join } from "node:path";
import { testCluster } from "../../../e2e/harness/test-cluster";
import { loadConfig } from "../../config/load-config";
import { principalHash } from "../sessions/principal";
import { newSessionId } from "../sessions/session-id";
import { type AgentcoreOptions, type RunningAgentcore, startAgentcore } from "../start-agentcore";

const ROOT = join(import.meta.dir, "../../..");

export const cluster = testCluster();

export async function kubectl(args: string[], stdin?: string): Promise<string> {
  const r = await cluster.kubectl(args, stdin === undefined ? {} : { stdin });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

export async function installSessionCrds(): Promise<void> {
  for (const f of ["agentruntimes", "agentsessions", "codeinterpreters"]) {
    await kubectl(["apply", "-f", join(ROOT, `manifests/00-crd-${f}.yaml`)]);
  }
  await kubectl(["wait", "--for=condition=Established", "crd", "--all", "--timeout=30s"]);
}

/**
 * What every test replica shares: this cluster, one namespace for sessions, sandboxes and the lease, and a
 * lease short enough for failover tests to hand over within seconds.
 */
export function replicaFlags(ns: string): string[] {
  return [
    `--kubeconfig=${cluster.kubeconfig}`,
    "--listen-host=127.0.0.1",
    `--allowed-namespaces=${ns}`,
    `--sandbox-namespace=${ns}`,
    `--leader-election-namespace=${ns}`,
    "--lease-duration=3s",
    "--renew-deadline=2s",
    "--retry-period=500ms",
  ];
}

export async function startTestAgentcore(
  ns: string,
  extra: string[] = [],
  options: AgentcoreOptions = {},
): Promise<RunningAgentcore> {
  const inv = loadConfig(
    [
      "--mode=agentcore",
      ...replicaFlags(ns),
      "--listen-port=0",
      "--http-port=0",
      "--create-timeout=2s",
      "--activity-write-interval=1s",
      "--log-level=error",
      ...extra,
    ],
    {},
  );
  if (inv.kind !== "run" || inv.config.mode !== "agentcore") throw new Error("bad test config");
  return startAgentcore(inv.config.settings, { ...options, controllers: options.controllers ?? false });
}

/** A CodeInterpreter CR as agentcore creates it for `principal`; `status` is written through the subresource. */
export async function sessionFor(
  ns: string,
  principal: string,
  spec: Record<string, unknown> = {},
  status?: Record<string, unknown>,
): Promise<string> {
  const name = newSessionId("ci-");
  const obj = {
    apiVersion: "agentland.fl0rencess720.app/v1alpha1",
    kind: "CodeInterpreter",
    metadata: {
      name,
      namespace: ns,
      annotations: { "agentland.fl0rencess720.app/principal": principalHash(principal) },
    },
    spec,
  };
  await kubectl(["create", "-f", "-"], JSON.stringify(obj));
  if (status) {
    await kubectl([
      "-n",
      ns,
      "patch",
      "codeinterpreter",
      name,
      "--subresource=status",
      "--type=merge",
      "-p",
      JSON.stringify({ status }),
    ]);
  }
  return name;
}

export async function codeInterpreterNames(ns: string): Promise<string[]> {
  const out = await kubectl([
    "-n",
    ns,
    "get",
    "codeinterpreters",
    "-o",
    "jsonpath={.items[*].metadata.name}",
  ]);
  return out.split(" ").filter((s) => s !== "");
}

export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await probe();
    if (v !== undefined) return v;
    await Bun.sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}
