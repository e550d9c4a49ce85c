/**
 * agentland on a local cluster exactly as an operator installs it: `kubectl apply -f manifests`, a client
 * API key in the Secret the gateway mounts, the control-plane Deployments Available as pods on the node,
 * then the examples (a warm SandboxPool and an AgentRuntime) until the pool is warm. Used by command A
 * (`npm start`) and by the end-to-end tests, so both see the same platform.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApiKey } from "../../src/gateway/auth/api-key-file";
import type { ClusterInfo } from "../cluster/cluster-state";

const ROOT = join(import.meta.dir, "../..");
export const SYSTEM_NS = "agentland-system";
export const SANDBOX_NS = "agentland-sandboxes";

export interface Platform {
  /** The gateway pods' addresses (pod IPs are loopback addresses: reachable from this machine). */
  readonly gatewayUrls: readonly string[];
  /** A client API key for `principal`, usable as `Authorization: Bearer <key>`. */
  readonly apiKey: string;
  readonly principal: string;
  /** API keys of the extra principals asked for (`BringUpOptions.extraPrincipals`), by principal. */
  readonly extraKeys: ReadonlyMap<string, string>;
  kubectl(args: readonly string[], stdin?: string): Promise<string>;
}

export function kubectlFor(cluster: ClusterInfo) {
  return async (args: readonly string[], stdin?: string): Promise<string> => {
    const proc = Bun.spawn([join(cluster.binDir, "kubectl"), `--kubeconfig=${cluster.kubeconfig}`, ...args], {
      stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin),
      stdout: "pipe",
      stderr: "pipe",
      timeout: 300_000,
    });
    const [out, err, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    if (code !== 0) throw new Error(`kubectl ${args.join(" ")} failed: ${err.trim()}`);
    return out;
  };
}

export interface BringUpOptions {
  /**
   * More client principals, one API key each (e.g. many clients at once: the gateway limits concurrent
   * sessions per principal). Installed with the first key, before the gateway starts.
   */
  readonly extraPrincipals?: readonly string[];
}

/** How long new API keys may take to reach gateways that were already running. */
const KEY_PROPAGATION_TIMEOUT_MS = 120_000;

/** Writes (or replaces) the gateway's API key Secret with one fresh key per principal. */
export async function installApiKeys(
  kubectl: Platform["kubectl"],
  principals: readonly string[],
): Promise<Map<string, string>> {
  const made = principals.map((principal) => ({
    principal,
    ...createApiKey({ id: `${principal}-key`, principal }),
  }));
  const dir = mkdtempSync(join(tmpdir(), "agentland-keys-"));
  try {
    const file = join(dir, "keys.json");
    writeFileSync(file, JSON.stringify({ keys: made.map((m) => m.entry) }), { mode: 0o600 });
    const secret = await kubectl([
      "-n",
      SYSTEM_NS,
      "create",
      "secret",
      "generic",
      "agentland-gateway-api-keys",
      `--from-file=keys.json=${file}`,
      "--dry-run=client",
      "-o",
      "json",
    ]);
    await kubectl(["apply", "-f", "-"], secret);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return new Map(made.map((m) => [m.principal, m.key]));
}

/** Waits until every SandboxPool in the sandbox namespace is Ready (its warm sandboxes are up). */
export async function waitPoolsReady(kubectl: Platform["kubectl"]): Promise<void> {
  await kubectl([
    "-n",
    SANDBOX_NS,
    "wait",
    "--for=condition=Ready",
    "sandboxpool",
    "--all",
    "--timeout=180s",
  ]);
}

export async function bringUpPlatform(
  cluster: ClusterInfo,
  log: (line: string) => void = console.error,
  principal = "local-dev",
  opts: BringUpOptions = {},
): Promise<Platform> {
  const kubectl = kubectlFor(cluster);
  log("kubectl apply -f manifests");
  // The API key Secret exists before the gateway starts, so its optional mount is filled from the start.
  await kubectl(["apply", "-f", join(ROOT, "manifests/10-namespaces.yaml")]);
  const keys = await installApiKeys(kubectl, [principal, ...(opts.extraPrincipals ?? [])]);
  const apiKey = keys.get(principal) ?? "";
  keys.delete(principal);
  await kubectl(["apply", "-f", join(ROOT, "manifests")]);
  log("waiting for the agentcore and gateway Deployments to be Available");
  await kubectl(["-n", SYSTEM_NS, "wait", "--for=condition=Available", "deploy", "--all", "--timeout=180s"]);
  // The example AgentRuntime reads its model credentials from a Secret the operator provides.
  const credentials = await kubectl([
    "-n",
    SANDBOX_NS,
    "create",
    "secret",
    "generic",
    "example-agent-credentials",
    "--from-literal=api-key=local-demo-not-a-real-key",
    "--dry-run=client",
    "-o",
    "json",
  ]);
  await kubectl(["apply", "-f", "-"], credentials);
  log("kubectl apply -f manifests/examples (a warm SandboxPool, an AgentRuntime, a CodeInterpreter)");
  await kubectl(["apply", "-f", join(ROOT, "manifests/examples")]);
  await waitPoolsReady(kubectl);
  const ips = await kubectl([
    "-n",
    SYSTEM_NS,
    "get",
    "pods",
    "-l",
    "app.kubernetes.io/component=gateway",
    "--field-selector=status.phase=Running",
    "-o",
    "jsonpath={.items[*].status.podIP}",
  ]);
  const gatewayUrls = ips
    .split(" ")
    .filter((ip) => ip !== "")
    .map((ip) => `http://${ip}:8080`);
  await waitKeyAccepted(gatewayUrls, apiKey);
  return { gatewayUrls, apiKey, principal, extraKeys: keys, kubectl };
}

/**
 * On a platform that was already up, the keys just written reach running gateways through the Secret
 * volume's refresh and the gateway's poll of the file, some seconds later; until then they answer 401.
 * The keys are one file, so a gateway accepting one of them has them all.
 */
async function waitKeyAccepted(gatewayUrls: readonly string[], apiKey: string): Promise<void> {
  const deadline = Date.now() + KEY_PROPAGATION_TIMEOUT_MS;
  for (const url of gatewayUrls) {
    for (;;) {
      const res = await fetch(`${url}/api/sessions`, { headers: { authorization: `Bearer ${apiKey}` } });
      await res.body?.cancel();
      if (res.status !== 401) break;
      if (Date.now() > deadline) throw new Error(`the gateway at ${url} still refuses the new API key`);
      await Bun.sleep(500);
    }
  }
}
