/**
 * Everything a gateway needs, for real, on the local control plane: the session CRDs, a sandbox namespace
 * with an AgentRuntime, AgentCore (in-process, controllers off), korokd and echo-agent processes standing
 * in for sandbox pods (each on its own loopback pod IP, with its own pod identity), and the gateway itself
 * as a child process started from `src/main.ts`.
 *
 * Two small stand-ins replace what the full stack would do: a "controller" that marks new session CRs
 * Ready pointing at one of the pods (as the Sandbox controller would), and a "kubelet" that copies the
 * JWKS ConfigMap into the file korokd reads (as a ConfigMap volume would). End-to-end runs with the real
 * controllers and node agent live in e2e/.
 */
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { testCluster } from "../../../e2e/harness/test-cluster";
import type { RunningAgentcore } from "../../agentcore/start-agentcore";
import { startTestAgentcore } from "../../agentcore/testing/agentcore-fixture";
import { AGENT_RUNTIMES, AGENT_SESSIONS, CODE_INTERPRETERS } from "../../api/resource-types";
import { createKubeClient, type KubeClient } from "../../kube/kube-client";
import { loadKubeconfigFile } from "../../kube/kube-config";
import type { ResourceType } from "../../kube/resource-client";
import { CONFIG_MAPS } from "../../kube/resources";
import { createApiKey } from "../auth/api-key-file";
import { type Child, eventually, loopbackSubnet, REPO_ROOT, spawnChild } from "./processes";

export const cluster = testCluster();

export interface Pod {
  readonly name: string;
  readonly ip: string;
  readonly port: number;
  readonly identity: string;
  readonly url: string;
  readonly workspace: string;
  readonly child: Child;
}

export interface GatewayProcess {
  readonly url: string;
  readonly child: Child;
  /** Current resident set size of the gateway process, bytes. */
  rss(): number;
}

export interface GatewayStack {
  readonly kube: KubeClient;
  /** The sandbox namespace (allowed) and the gateway's own namespace. */
  readonly ns: string;
  readonly home: string;
  readonly agentcore: RunningAgentcore;
  readonly korokds: readonly Pod[];
  readonly agents: readonly Pod[];
  /** Principal → API key. */
  readonly apiKeys: Readonly<Record<string, string>>;
  readonly gateway: GatewayProcess;
  /** Starts another gateway replica with the same settings (plus `extra`). */
  startGateway(extra?: string[]): Promise<GatewayProcess>;
  stop(): Promise<void>;
}

export interface StackOptions {
  readonly korokds?: number;
  readonly agents?: number;
  readonly gatewayArgs?: readonly string[];
  readonly principals?: readonly string[];
}

/** Runtimes the stand-in controller knows: `echo` → an echo agent pod; `dead` → an address nobody serves. */
export const RUNTIMES = ["echo", "dead"] as const;

export async function startGatewayStack(opts: StackOptions = {}): Promise<GatewayStack> {
  const kube = createKubeClient(loadKubeconfigFile(cluster.kubeconfig));
  await installCrds();
  const home = await cluster.createNamespace("gw-home");
  const ns = await cluster.createNamespace("gw-sbx");
  for (const name of RUNTIMES) await createRuntime(kube, ns, name);
  const dir = mkdtempSync(join(tmpdir(), "gw-stack-"));
  const stops: (() => Promise<void> | void)[] = [() => rmSync(dir, { recursive: true, force: true })];
  const stop = async () => {
    for (const s of stops.splice(0).reverse()) await s();
  };
  try {
    const agentcore = await startStackAgentcore(ns, home);
    stops.push(() => agentcore.stop(2_000));
    const apiKeys: Record<string, string> = {};
    const entries = (opts.principals ?? ["alice", "bob"]).map((principal) => {
      const { key, entry } = createApiKey({ id: `${principal}-key`, principal });
      apiKeys[principal] = key;
      return entry;
    });
    writeFileSync(join(dir, "keys.json"), JSON.stringify({ keys: entries }));
    const gatewayArgs = (extra: readonly string[]) => [
      "src/main.ts",
      "--mode=gateway",
      `--kubeconfig=${cluster.kubeconfig}`,
      "--listen-host=127.0.0.1",
      "--listen-port=0",
      `--agentcore-url=${agentcore.httpUrl}`,
      `--api-keys-path=${join(dir, "keys.json")}`,
      `--pod-namespace=${home}`,
      `--allowed-namespaces=${ns}`,
      `--default-namespace=${ns}`,
      "--default-runtime=echo",
      "--upstream-timeout=5s",
      "--key-propagation-delay=1500ms",
      "--log-level=warn",
      ...(opts.gatewayArgs ?? []),
      ...extra,
    ];
    const startGateway = async (extra: string[] = []) => {
      const gw = await spawnGateway(gatewayArgs(extra));
      stops.push(() => gw.child.stop());
      return gw;
    };
    const gateway = await startGateway();
    const jwksPath = join(dir, "jwks", "jwks.json");
    stops.push(copyJwksLikeKubelet(kube, ns, jwksPath));
    const subnet = loopbackSubnet();
    const korokds: Pod[] = [];
    for (let i = 0; i < (opts.korokds ?? 2); i++) {
      const pod = await startKorokdPod(ns, `korokd-${i}`, `${subnet}.${i + 1}`, jwksPath, dir);
      stops.push(() => pod.child.stop());
      korokds.push(pod);
    }
    const agents: Pod[] = [];
    for (let i = 0; i < (opts.agents ?? 2); i++) {
      const pod = await startEchoPod(ns, `echo-${i}`, `${subnet}.${100 + i}`);
      stops.push(() => pod.child.stop());
      agents.push(pod);
    }
    stops.push(standInController(kube, ns, korokds, agents, `${subnet}.250`));
    return { kube, ns, home, agentcore, korokds, agents, apiKeys, gateway, startGateway, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function installCrds(): Promise<void> {
  for (const f of ["agentruntimes", "agentsessions", "codeinterpreters"]) {
    const r = await cluster.kubectl(["apply", "-f", join(REPO_ROOT, `manifests/00-crd-${f}.yaml`)]);
    if (r.code !== 0) throw new Error(`installing CRD ${f}: ${r.stderr}`);
  }
  await cluster.kubectl(["wait", "--for=condition=Established", "crd", "--all", "--timeout=30s"]);
}

async function createRuntime(kube: KubeClient, ns: string, name: string): Promise<void> {
  await kube.resource(AGENT_RUNTIMES).create({
    apiVersion: "agentland.fl0rencess720.app/v1alpha1",
    kind: "AgentRuntime",
    metadata: { name, namespace: ns },
    spec: { sandboxTemplate: { image: "agentland/echo-agent:test", port: 1883 } },
  } as never);
}

/** The agentcore fixture's replica, its lease in the gateway's home namespace, with room for cold creates. */
async function startStackAgentcore(ns: string, home: string): Promise<RunningAgentcore> {
  const agentcore = await startTestAgentcore(ns, [
    `--leader-election-namespace=${home}`,
    "--create-timeout=20s",
  ]);
  await eventually("agentcore's session cache to sync", async () => {
    const res = await fetch(`${agentcore.httpUrl}/healthz`).catch(() => undefined);
    return res?.ok ? true : undefined;
  });
  return agentcore;
}

async function spawnGateway(args: string[]): Promise<GatewayProcess> {
  const { child, line } = await spawnChild(args, {}, (l) => l.includes('"msg":"started"'));
  const url = (JSON.parse(line) as { url: string }).url;
  // What the pod's readiness probe asks: this replica can serve (AgentCore may be down on purpose).
  await eventually("the gateway to be ready", async () => {
    const res = await fetch(`${url}/readyz?exclude=agentcore`).catch(() => undefined);
    return res?.ok ? true : undefined;
  });
  return { url, child, rss: () => rssOf(child.proc.pid) };
}

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return Number(kb ?? 0) * 1024;
}

async function startKorokdPod(
  ns: string,
  name: string,
  ip: string,
  jwksPath: string,
  dir: string,
): Promise<Pod> {
  const workspace = join(dir, name, "workspace");
  const scratch = join(dir, name, "scratch");
  mkdirSync(workspace, { recursive: true });
  mkdirSync(scratch, { recursive: true });
  const { child } = await spawnChild(
    [
      "src/main.ts",
      "--mode=korokd",
      "--listen-port=1883",
      `--jwks-path=${jwksPath}`,
      "--jwks-poll-interval=100ms",
      `--workspace-dir=${workspace}`,
      `--scratch-dir=${scratch}`,
      "--log-level=warn",
    ],
    { POD_IP: ip, POD_NAME: name, POD_NAMESPACE: ns },
    (l) => l.includes('"msg":"started"'),
  );
  const url = `http://${ip}:1883`;
  await eventually(`korokd ${name} to load the gateway's keys`, async () => {
    const res = await fetch(`${url}/health`).catch(() => undefined);
    return res?.ok ? true : undefined;
  });
  return { name, ip, port: 1883, identity: `${ns}/${name}`, url, workspace, child };
}

async function startEchoPod(ns: string, name: string, ip: string): Promise<Pod> {
  const { child } = await spawnChild(["e2e/fixtures/echo-agent.ts"], { POD_IP: ip, PORT: "1883" }, (l) =>
    l.includes("echo agent listening"),
  );
  return { name, ip, port: 1883, identity: `${ns}/${name}`, url: `http://${ip}:1883`, workspace: "", child };
}

/** Copies the JWKS ConfigMap into korokd's file whenever it changes, atomically (like a volume update). */
function copyJwksLikeKubelet(kube: KubeClient, ns: string, path: string): () => Promise<void> {
  mkdirSync(join(path, ".."), { recursive: true });
  let last = "";
  return loop(100, 400, async () => {
    const cm = await kube.resource(CONFIG_MAPS).get("agentland-sandbox-jwks", { namespace: ns });
    const text = cm.data?.["jwks.json"];
    if (text === undefined || text === last) return false;
    writeFileSync(`${path}.tmp`, text);
    renameSync(`${path}.tmp`, path);
    last = text;
    return true;
  });
}

/** Marks new sessions Ready on a pod, as the Sandbox controller would once the pod is Ready. */
function standInController(
  kube: KubeClient,
  ns: string,
  korokds: readonly Pod[],
  agents: readonly Pod[],
  deadIp: string,
): () => Promise<void> {
  let next = 0;
  const podFor = (runtime: string | undefined): { name: string; ip: string; port: number } | undefined => {
    if (runtime === "dead") return { name: "dead-pod", ip: deadIp, port: 1883 };
    const pods = runtime === undefined ? korokds : runtime === "echo" ? agents : [];
    return pods.length === 0 ? undefined : pods[next++ % pods.length];
  };
  const types = [CODE_INTERPRETERS, AGENT_SESSIONS] as unknown as ResourceType<SessionLike>[];
  return loop(50, 400, async () => {
    let changed = false;
    for (const type of types) {
      const { items } = await kube.resource(type).list({ namespace: ns });
      for (const obj of items) {
        if (obj.status?.podName || obj.status?.phase || obj.metadata.deletionTimestamp) continue;
        const pod = podFor(obj.spec.runtimeRef?.name);
        if (pod === undefined) continue;
        await kube.resource(type).patchStatus(obj.metadata.name, {
          namespace: ns,
          type: "merge",
          patch: { status: readyStatus(pod) },
        });
        changed = true;
      }
    }
    return changed;
  });
}

interface SessionLike {
  metadata: { name: string; deletionTimestamp?: string };
  spec: { runtimeRef?: { name: string } };
  status?: { podName?: string; phase?: string };
}

export function readyStatus(pod: { name: string; ip: string; port: number }) {
  return {
    phase: "Ready",
    podName: pod.name,
    podIP: pod.ip,
    port: pod.port,
    sandboxName: pod.name,
    conditions: [
      {
        type: "Ready",
        status: "True",
        reason: "SandboxReady",
        message: "",
        lastTransitionTime: new Date().toISOString(),
      },
    ],
  };
}

/**
 * Runs `body` until stopped: every `minMs` while it reports changes, backing off to `maxMs` while nothing
 * happens (benchmarks share the machine with these loops). Failures are retried on the next tick.
 */
function loop(minMs: number, maxMs: number, body: () => Promise<boolean>): () => Promise<void> {
  let stopped = false;
  const done = (async () => {
    let wait = minMs;
    while (!stopped) {
      const changed = await body().catch(() => false);
      wait = changed ? minMs : Math.min(maxMs, wait * 2);
      await Bun.sleep(wait);
    }
  })();
  return async () => {
    stopped = true;
    await done;
  };
}
