/**
 * `bun run bench e2e`: the platform exactly as command A brings it up (`kubectl apply -f manifests`, the
 * gateway and AgentCore as pods, the example warm pool), measured from a client's side, each number next
 * to the same work done without the hop it is about:
 *   - new session from the warm pool → first `print(1+1)` result through the gateway, split into the
 *     steps the apiserver shows (session object, claim, binding, Ready) — vs. AgentCore's RPC called
 *     directly plus the first run sent straight to the korokd pod;
 *   - runs in an existing session through the gateway vs. straight to korokd (one-shot back to back,
 *     one-shot with a pause, and in a stateful context);
 *   - 200 concurrent new sessions, each its own client, against a pool grown to 200 and warm: every
 *     answer, the time to the last one, and what 200 warm pods cost the machine;
 *   - RSS of gateway, AgentCore and korokd pods, idle and under load.
 * Bounded: 4-6 minutes with the pool warm-up on a loaded 2-core machine (warm-up ≤ 180 s, burst ≤ 30 s);
 * stops growing the pool before memory runs short.
 */
import { readFileSync } from "node:fs";
import { COMPONENT_PORTS } from "../../src/api/install-names";
import { createKubeClient } from "../../src/kube/kube-client";
import { loadKubeconfigFile } from "../../src/kube/kube-config";
import { readClusterInfo } from "../cluster/cluster-state";
import { burstPhase } from "../platform/bench/burst-phase";
import { byIp, podsOf } from "../platform/bench/platform-probe";
import { type PodMemory, podMemory } from "../platform/bench/pod-memory";
import { createReport, loadAverage, machineMemoryMiB, percentile } from "../platform/bench/report";
import { createSandboxAccess } from "../platform/bench/sandbox-access";
import {
  existingSessionRuns,
  type NewSessionSample,
  newSessionDirect,
  newSessionViaGateway,
  openSession,
  RUN_BODY,
  type Where,
} from "../platform/bench/session-runs";
import { watchSessionTimeline } from "../platform/bench/session-timeline";
import { bringUpPlatform, SANDBOX_NS, SYSTEM_NS } from "../platform/bring-up-platform";

const NEW_SESSIONS = 40;
const ONE_SHOT_RUNS = 60;
const CONTEXT_RUNS = 200;
const BURST = 200;
const POOL = "code-interpreter";
/** Never let the pool's growth take the machine below this (it has no swap; others share it). */
const MEMORY_FLOOR_MIB = 3_072;
const WARM_UP_TIMEOUT_MS = 180_000;
/** Ten times the goal: an answer later than this counts as not answered. */
const BURST_REQUEST_TIMEOUT_MS = 30_000;

const log = (line: string) => console.error(`    ${line}`);
const cluster = readClusterInfo(process.env["AGENTLAND_CLUSTER_DIR"] ?? "");
if (!cluster) throw new Error("run through `bun run bench e2e` (it starts the cluster)");
const clients = Array.from({ length: BURST }, (_, i) => `bench-client-${String(i).padStart(3, "0")}`);
const platform = await bringUpPlatform(cluster, log, "local-dev", { extraPrincipals: clients });
const kube = createKubeClient(loadKubeconfigFile(cluster.kubeconfig), { qps: 200, burst: 400 });
const where: Where = { kube, namespace: SANDBOX_NS, pool: POOL };
const gw = { url: platform.gatewayUrls[0] ?? "", apiKey: platform.apiKey };
const report = createReport("e2e");
const loads: string[] = [`start ${loadAverage()}`];

// The gateways reach AgentCore by its Service name, which the node resolves to the lowest Ready pod IP.
const agentcorePods = (await podsOf(kube, SYSTEM_NS, "app.kubernetes.io/component=agentcore"))
  .filter((p) => p.ready)
  .sort(byIp);
const access = await createSandboxAccess({
  kube,
  systemNamespace: SYSTEM_NS,
  agentcoreUrl: `http://${agentcorePods[0]?.ip}:${COMPONENT_PORTS.agentcoreHttp}`,
});
const timeline = await watchSessionTimeline(kube, SANDBOX_NS);

interface ComponentMemory {
  readonly gateway: PodMemory[];
  readonly agentcore: PodMemory[];
  readonly korokd: PodMemory[];
}

async function components(pss = false): Promise<ComponentMemory> {
  const all = [
    ...(await podsOf(kube, SYSTEM_NS)),
    ...(await podsOf(kube, SANDBOX_NS)).filter((p) => p.image.includes("code-interpreter")),
  ];
  const mem = podMemory(
    all.map((p) => p.name),
    { pss },
  );
  const of = (prefix: string) => mem.filter((m) => m.pod.startsWith(prefix));
  return {
    gateway: of("agentland-gateway-"),
    agentcore: of("agentland-agentcore-"),
    korokd: mem.filter((m) => !m.pod.startsWith("agentland-")),
  };
}
const nodeAgentMiB = () => {
  const pid = cluster.pids["node-agent"];
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
};
const idle = await components();

// 1. New sessions from the warm pool: gateway and direct alternate, each from a full pool at rest.
const viaGateway: NewSessionSample[] = [];
const direct: NewSessionSample[] = [];
for (let i = 0; i < NEW_SESSIONS; i++) {
  viaGateway.push(await newSessionViaGateway(where, gw, timeline));
  direct.push(await newSessionDirect(where, access));
}
loads.push(`after new sessions ${loadAverage()}`);
const totals = (xs: NewSessionSample[]) => xs.map((s) => s.totalMs);
const g50 = percentile(totals(viaGateway), 50);
const d50 = percentile(totals(direct), 50);
report.series(
  "new_session_first_result",
  "new session from warm pool → first result, via gateway",
  totals(viaGateway),
  {
    baseline: `direct p50 ${d50.toFixed(1)} ms; gateway adds ${(g50 - d50).toFixed(1)} ms`,
    goal: "p50 ≤ 50, p99 ≤ 150",
  },
);
report.series("new_session_direct", "baseline: AgentCore RPC + first run straight to korokd", totals(direct));
report.series(
  "direct_rpc_create",
  "  of which CreateCodeInterpreter RPC (incl. claim binding)",
  direct.map((s) => s.rpcMs ?? 0),
);
report.series(
  "direct_korokd_first_run",
  "  of which first run on the fresh pod, straight to korokd",
  direct.map((s) => s.korokdMs ?? 0),
);
const steps = viaGateway.flatMap((s) => (s.steps ? [{ ...s.steps, total: s.totalMs }] : []));
const stage = (name: string, label: string, f: (s: (typeof steps)[number]) => number) => {
  const xs = steps.map(f);
  report.series(name, `  gateway path: ${label}`, xs, {
    baseline: `${((100 * percentile(xs, 50)) / g50).toFixed(0)}% of total p50`,
  });
};
stage(
  "stage_gateway_to_session_object",
  "request → CodeInterpreter created (gateway, quota RPC, create RPC, apiserver)",
  (s) => s.sessionCreated,
);
stage(
  "stage_sandbox_taken",
  "session object → warm sandbox taken (its reservation, sent alongside the POST: may be < 0)",
  (s) => s.sandboxTaken - s.sessionCreated,
);
// The create is answered from that write; the claim and the session's status follow off the path.
stage(
  "stage_taken_to_result",
  "both writes seen → first result (RPC answer, token, proxy, korokd run)",
  (s) => s.total - Math.max(s.sandboxTaken, s.sessionCreated),
);

// 2. Runs in an existing session.
const { target, contextId } = await openSession(where, gw);
const pairs = [
  [
    "existing_session_oneshot",
    "one-shot run, back to back",
    await existingSessionRuns(gw, access, target, { count: ONE_SHOT_RUNS, warmup: 5, pauseMs: 0 }),
  ],
  [
    "existing_session_oneshot_paused",
    "one-shot run, 150 ms apart (next interpreter booted)",
    await existingSessionRuns(gw, access, target, { count: ONE_SHOT_RUNS, warmup: 5, pauseMs: 150 }),
  ],
  [
    "existing_session_context",
    "run in a stateful context",
    await existingSessionRuns(gw, access, target, { count: CONTEXT_RUNS, warmup: 30, pauseMs: 0, contextId }),
  ],
] as const;
for (const [name, label, runs] of pairs) {
  const gp50 = percentile(runs.gateway, 50);
  const dp50 = percentile(runs.direct, 50);
  report.series(name, `existing session via gateway: ${label}`, runs.gateway, {
    baseline: `korokd direct p50 ${dp50.toFixed(2)} ms; gateway adds ${(gp50 - dp50).toFixed(2)} ms`,
    goal: "p50 ≤ 2",
  });
  report.metric(`${name}_direct_p50`, dp50, "ms");
}
loads.push(`after existing-session runs ${loadAverage()}`);
const afterLatency = await components();

// 3. 200 concurrent new sessions against a pool of 200 (with the diagnosis of every hop).
const agentcoreMetricsUrls = agentcorePods.map((p) => `http://${p.ip}:${COMPONENT_PORTS.agentcoreHttp}`);
const { failures } = await burstPhase(
  {
    kube,
    clusterDir: cluster.dir,
    systemNamespace: SYSTEM_NS,
    sandboxNamespace: SANDBOX_NS,
    pool: POOL,
    size: BURST,
    gatewayUrls: platform.gatewayUrls,
    agentcoreMetricsUrls,
    keys: clients.map((c) => platform.extraKeys.get(c) ?? ""),
    body: RUN_BODY,
    timeline,
    memoryFloorMiB: MEMORY_FLOOR_MIB,
    warmUpTimeoutMs: WARM_UP_TIMEOUT_MS,
    requestTimeoutMs: BURST_REQUEST_TIMEOUT_MS,
    log,
  },
  report,
);
loads.push(`after burst ${loadAverage()}`);
const underLoad = await components();

// 4. Component memory: idle (after bring-up), after the latency phases, right after the burst.
const max = (xs: PodMemory[], f: (m: PodMemory) => number) => (xs.length ? Math.max(...xs.map(f)) : 0);
for (const name of ["gateway", "agentcore", "korokd"] as const) {
  const i = max(idle[name] ?? [], (m) => m.rssMiB);
  const l = max(afterLatency[name] ?? [], (m) => m.peakMiB);
  const b = max(underLoad[name] ?? [], (m) => m.peakMiB);
  report.row({
    measurement: `RSS ${name} pod (max over replicas)`,
    value: `idle ${i.toFixed(0)} → peak ${Math.max(l, b).toFixed(0)} MiB`,
    baseline: `peak after latency phases ${l.toFixed(0)}, after burst ${b.toFixed(0)}`,
  });
  report.metric(`rss_${name}_idle`, i, "MiB");
  report.metric(`rss_${name}_peak_under_load`, Math.max(l, b), "MiB");
}
report.row({
  measurement: "RSS node agent (kubelet stand-in) after the burst",
  value: `${nodeAgentMiB().toFixed(0)} MiB`,
});
report.note(
  `load average (1/5/15 min): ${loads.join("; ")}. Machine: ${machineMemoryMiB().total.toFixed(0)} MiB RAM, no swap.`,
);
report.print(
  "end-to-end through the gateway pods (platform as command A installs it; host-process node, loopback)",
);
access.stop();
await timeline.stop();
process.exit(failures === 0 ? 0 : 1);
