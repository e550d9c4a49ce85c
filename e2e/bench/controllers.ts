/**
 * `bun run bench controllers`: agentland's controllers on the real local cluster and host-process node,
 * each number beside its floor measured in the same run:
 *   - warm claim → Sandbox Ready: create a SandboxClaim on a warm pool, until its adopted Sandbox is seen
 *     Ready on a watch (and until the claim's own status says so), vs. the floor of one ConfigMap create →
 *     its watch event; also a whole CodeInterpreter session (session → claim → sandbox → session Ready);
 *   - burst: 200 claims against a Ready pool of 200 → time until all are bound, and the apiserver writes
 *     the controllers made per claim (counted by a recording proxy in front of the apiserver);
 *   - cold: a Direct CodeInterpreter (real korokd) → Ready, vs. the same pod created bare → Ready.
 * Needs the local cluster (AGENTLAND_CLUSTER_DIR) with its node agent.
 */

import { defaultCodeInterpreterTemplate } from "../../src/agentcore/controllers/code-interpreter";
import {
  API,
  adminClient,
  claim,
  controllerNamespace,
  KOROKD_IMAGE,
  kubectl,
  pool,
  type RunningControllers,
  startControllers,
} from "../../src/agentcore/controllers/testing/controller-fixture";
import { watcher } from "../../src/agentcore/controllers/testing/event-waiter";
import { renderSandboxPod } from "../../src/agentcore/render/render-pod";
import { CODE_INTERPRETERS, SANDBOX_CLAIMS, SANDBOX_POOLS, SANDBOXES } from "../../src/api/resource-types";
import { parseSandbox } from "../../src/api/sandbox";
import type { KubeObject } from "../../src/kube/kube-object";
import type { ResourceClient } from "../../src/kube/resource-client";
import { CONFIG_MAPS, PODS } from "../../src/kube/resources";

const WARM_RUNS = 40;
const WARM_POOL = 10;
const BURST = 200;
const COLD_RUNS = 5;

const client = adminClient();
const claims = client.resource(SANDBOX_CLAIMS);
const pools = client.resource(SANDBOX_POOLS);
const sandboxes = client.resource(SANDBOXES);
const sessions = client.resource(CODE_INTERPRETERS);
const configMaps = client.resource(CONFIG_MAPS);
const pods = client.resource(PODS);

interface Row {
  readonly what: string;
  readonly p50: number;
  readonly p99: number;
  readonly base?: number;
  readonly unit: string;
}
const rows: Row[] = [];
const lines: { metric: string; value: number; unit: string }[] = [];
const round = (n: number) => Math.round(n * 100) / 100;
const pct = (xs: readonly number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};
function report(
  metric: string,
  what: string,
  samples: readonly number[],
  unit: string,
  baseline?: readonly number[],
) {
  const p50 = pct(samples, 50);
  const p99 = pct(samples, 99);
  const base = baseline ? pct(baseline, 50) : undefined;
  rows.push({ what, p50, p99, ...(base === undefined ? {} : { base }), unit });
  lines.push(
    { metric: `${metric}_p50`, value: round(p50), unit },
    { metric: `${metric}_p99`, value: round(p99), unit },
  );
  if (base !== undefined) {
    lines.push({ metric: `${metric}_baseline_p50`, value: round(base), unit });
    lines.push({ metric: `${metric}_ratio`, value: round(p50 / base), unit: "x" });
  }
}
function single(metric: string, what: string, value: number, unit: string) {
  rows.push({ what, p50: value, p99: value, unit });
  lines.push({ metric, value: round(value), unit });
}

const readyCondition = (o: {
  status?: { conditions?: readonly { type: string; status: string }[] | undefined } | undefined;
}) => o.status?.conditions?.find((c) => c.type === "Ready")?.status === "True";

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(200);
  }
}
const poolFull = (ns: string, name: string, n: number) => async () =>
  (await pools.get(name, { namespace: ns })).status?.availableReplicas === n;

/**
 * Waits until the pool is full again, so every timed claim is served warm and measured on its own: the
 * previous step's refill (a pod starting on this 2-core machine) does not overlap it. Concurrency is what
 * the burst measures.
 */
const warmSpare = (ns: string, name: string) => poolFull(ns, name, WARM_POOL);
const deleteLater = (api: ResourceClient<KubeObject>, ns: string, name: string) =>
  void api.delete(name, { namespace: ns, propagationPolicy: "Background" }).catch(() => {});

async function warm(ns: string): Promise<void> {
  console.error(`warm: pool of ${WARM_POOL}, ${WARM_RUNS} claims and ${WARM_RUNS} sessions one at a time`);
  await pools.create(pool(ns, "warm", WARM_POOL) as never, { namespace: ns });
  await waitFor("warm pool", poolFull(ns, "warm", WARM_POOL), 180_000);
  const claimWatch = await watcher(claims, ns);
  // The adopted Sandbox, found by the claim it names.
  const sandboxWatch = await watcher(sandboxes, ns, (s) => s.spec?.claimRef?.name ?? "");
  const adopted: number[] = [];
  const cmWatch = await watcher(configMaps, ns);
  const sessionWatch = await watcher(sessions, ns);
  const ours: number[] = [];
  const floor: number[] = [];
  const session: number[] = [];
  const sandboxTemplate = pool(ns, "warm", 0).spec.sandboxTemplate;
  // Deleted after the timed loop, so no cascade deletion runs during a measurement.
  const done: (() => void)[] = [];
  for (let i = 0; i < WARM_RUNS; i++) {
    await waitFor("a spare warm sandbox", warmSpare(ns, "warm"), 60_000);
    const name = `warm-${i}`;
    const t0 = performance.now();
    const seen = claimWatch.until(name, (c) => readyCondition(c) && c.status?.podIP !== undefined);
    const sandboxSeen = sandboxWatch.until(name, (x) => x.status?.phase === "Ready");
    await claims.create(claim(ns, name, { poolRef: { name: "warm" }, mode: "PoolRequired" }) as never, {
      namespace: ns,
    });
    adopted.push((await sandboxSeen) - t0);
    ours.push((await seen) - t0);
    done.push(() => deleteLater(claims as never, ns, name));

    const t1 = performance.now();
    const cmSeen = cmWatch.until(`floor-${i}`, () => true);
    await configMaps.create({ metadata: { name: `floor-${i}`, namespace: ns }, data: {} }, { namespace: ns });
    floor.push((await cmSeen) - t1);

    // A whole session on a warm sandbox: CodeInterpreter → SandboxClaim → adopted Sandbox → session Ready.
    await waitFor("a spare warm sandbox", warmSpare(ns, "warm"), 60_000);
    const ci = `ci-warm-${i}`;
    const t2 = performance.now();
    const ready = sessionWatch.until(ci, (x) => x.status?.phase === "Ready");
    const spec = { sandboxTemplate, provisioning: { poolRef: { name: "warm" }, mode: "PoolRequired" } };
    await sessions.create(
      { apiVersion: API, kind: "CodeInterpreter", metadata: { name: ci, namespace: ns }, spec } as never,
      {
        namespace: ns,
      },
    );
    session.push((await ready) - t2);
    done.push(() => deleteLater(sessions as never, ns, ci));
  }
  for (const d of done) d();
  report(
    "warm_claim_sandbox_ready",
    "warm claim → its Sandbox Ready (vs ConfigMap create → event)",
    adopted,
    "ms",
    floor,
  );
  report("warm_claim_ready", "warm claim → claim status Ready (vs ConfigMap floor)", ours, "ms", floor);
  report("warm_session_ready", "warm CodeInterpreter → Ready (vs ConfigMap floor)", session, "ms", floor);
  await Promise.all([claimWatch.close(), sandboxWatch.close(), cmWatch.close(), sessionWatch.close()]);
}

async function cold(ns: string): Promise<void> {
  console.error(`cold: ${COLD_RUNS} Direct korokd sessions, each beside a bare pod`);
  const sessionWatch = await watcher(sessions, ns);
  const podWatch = await watcher(pods, ns);
  const ours: number[] = [];
  const bare: number[] = [];
  const template = defaultCodeInterpreterTemplate(KOROKD_IMAGE);
  for (let i = 0; i < COLD_RUNS; i++) {
    const name = `cold-${i}`;
    const t0 = performance.now();
    const seen = sessionWatch.until(name, (s) => s.status?.phase === "Ready");
    const spec = { provisioning: { mode: "Direct" } };
    await sessions.create(
      { apiVersion: API, kind: "CodeInterpreter", metadata: { name, namespace: ns }, spec } as never,
      { namespace: ns },
    );
    ours.push((await seen) - t0);
    deleteLater(sessions as never, ns, name);
    // The same pod, created bare: what the node alone costs.
    const sandbox = parseSandbox({
      apiVersion: API,
      kind: "Sandbox",
      metadata: { name: `bare-${i}`, namespace: ns, uid: "none" },
      spec: { sandboxTemplate: template },
    });
    const pod = renderSandboxPod(sandbox, { jwksConfigMap: "agentland-sandbox-jwks" });
    if (pod.metadata) delete pod.metadata.ownerReferences;
    const t1 = performance.now();
    const podSeen = podWatch.until(`bare-${i}`, (p) => readyCondition(p));
    await pods.create(pod, { namespace: ns });
    bare.push((await podSeen) - t1);
    deleteLater(pods as never, ns, `bare-${i}`);
  }
  report(
    "cold_direct_ready",
    "cold Direct CodeInterpreter (korokd) → Ready (vs bare pod → Ready)",
    ours,
    "ms",
    bare,
  );
  await Promise.all([sessionWatch.close(), podWatch.close()]);
}

async function burst(ns: string, controllers: RunningControllers): Promise<void> {
  const proxy = controllers.proxy;
  if (!proxy) throw new Error("burst needs the recording proxy");
  console.error(`burst: pool of ${BURST}, then ${BURST} claims at once`);
  await pools.create(pool(ns, "burst", BURST) as never, { namespace: ns });
  await waitFor("burst pool", poolFull(ns, "burst", BURST), 300_000);
  await Bun.sleep(1_000);
  const before = proxy.requests.length;
  const names = Array.from({ length: BURST }, (_, i) => `b-${i}`);
  const t0 = performance.now();
  await Promise.all(
    names.map((name) =>
      claims.create(claim(ns, name, { poolRef: { name: "burst" }, mode: "PoolRequired" }) as never, {
        namespace: ns,
      }),
    ),
  );
  // Bound is read from the controllers' own informer cache (their watch), every 10 ms: polling a list of
  // 200 claims from the apiserver would itself load the apiserver under test.
  const boundAt = new Map<string, number>();
  const deadline = t0 + 180_000;
  while (boundAt.size < BURST) {
    if (performance.now() > deadline) throw new Error(`burst: ${boundAt.size}/${BURST} bound in time`);
    for (const c of controllers.set.context.caches.claims.list(ns))
      if (c.status?.phase === "Bound" && !boundAt.has(c.metadata.name ?? ""))
        boundAt.set(c.metadata.name ?? "", performance.now() - t0);
    await Bun.sleep(10);
  }
  const elapsed = Math.max(...boundAt.values());
  const boundRequests = proxy.requests.length;
  // Then the pool refills (bounded wait, the node starts 200 pods): the full cost of serving them warm.
  // Counted from the controllers' cache: unclaimed Ready members (the pool's status may lag a moment).
  const spare = () =>
    controllers.set.context.caches.sandboxes
      .list(ns)
      .filter((s) => !s.spec?.claimRef && s.status?.phase === "Ready" && !s.metadata?.deletionTimestamp)
      .length;
  await waitFor("burst pool refilled", async () => spare() >= BURST, 30_000).catch(() => {});
  const refilled = spare();
  const kinds = (from: number, to: number) => {
    const counts = new Map<string, number>();
    for (const w of proxy.requests.slice(from, to)) {
      if (w.method === "GET") continue;
      // /api(s)/…/namespaces/<ns>/<resource>[/<name>[/status]]
      const parts = w.path.split("/");
      const at = parts.indexOf("namespaces");
      const what = `${w.method} ${parts[at + 2] ?? w.path}${parts[at + 4] ? `/${parts[at + 4]}` : ""}`;
      counts.set(what, (counts.get(what) ?? 0) + 1);
    }
    return counts;
  };
  const toBound = kinds(before, boundRequests);
  const total = kinds(before, proxy.requests.length);
  const sum = (m: Map<string, number>, keys?: string[]) =>
    [...m].filter(([k]) => !keys || keys.includes(k)).reduce((n, [, v]) => n + v, 0);
  const binding = sum(total, ["PUT sandboxes", "PATCH sandboxclaims/status", "POST events"]);
  single("burst_all_bound", `burst: ${BURST} claims on a Ready pool of ${BURST} → all bound`, elapsed, "ms");
  report("burst_claim_bound", "burst: one claim → Bound, across the burst", [...boundAt.values()], "ms");
  single(
    "burst_bind_writes_per_claim",
    "burst: writes to bind one claim (adopt + claim status + event)",
    binding / BURST,
    "writes",
  );
  single(
    "burst_writes_until_bound_per_claim",
    "burst: all controller writes until all bound, per claim",
    sum(toBound) / BURST,
    "writes",
  );
  single(
    "burst_writes_with_refill_per_claim",
    `burst: all controller writes incl. refill (${refilled}/${BURST} Ready again), per claim`,
    sum(total) / BURST,
    "writes",
  );
  console.error(`burst writes by kind, until bound: ${JSON.stringify(Object.fromEntries(toBound))}`);
  console.error(`burst writes by kind, with refill: ${JSON.stringify(Object.fromEntries(total))}`);
}

function printTable(): void {
  const pad = (s: string, n: number) => s.padEnd(n);
  console.log(`\n${pad("controllers", 78)}${pad("p50", 12)}${pad("p99", 12)}${pad("floor p50", 12)}ratio`);
  for (const r of rows) {
    const ratio = r.base ? `${(r.p50 / r.base).toFixed(1)}x` : "-";
    const base = r.base === undefined ? "-" : `${r.base.toFixed(1)} ${r.unit}`;
    console.log(
      `${pad(r.what, 78)}${pad(`${r.p50.toFixed(1)} ${r.unit}`, 12)}${pad(`${r.p99.toFixed(1)} ${r.unit}`, 12)}${pad(base, 12)}${ratio}`,
    );
  }
  const rss = process.memoryUsage().rss / 2 ** 20;
  console.log(`\nbench process (controllers in-process) resident memory: ${rss.toFixed(0)} MiB`);
  lines.push({ metric: "process_rss", value: round(rss), unit: "MiB" });
  console.log();
  for (const m of lines) console.log(JSON.stringify({ bench: "controllers", ...m }));
}

const created: string[] = [];
try {
  const ns = await controllerNamespace("bench-ctl");
  created.push(ns);
  const direct = await startControllers(ns, { workers: 8 });
  try {
    await warm(ns);
    await cold(ns);
  } finally {
    await direct.stop();
  }
  const burstNs = await controllerNamespace("bench-burst");
  created.push(burstNs);
  const recorded = await startControllers(burstNs, { workers: 8, recordRequests: true });
  try {
    await burst(burstNs, recorded);
  } finally {
    await recorded.stop();
  }
} finally {
  await Promise.all(created.map((ns) => kubectl(["delete", "ns", ns, "--wait=false"]).catch(() => "")));
}
printTable();
process.exit(0);
