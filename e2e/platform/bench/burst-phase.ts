/**
 * The 200-at-once phase of the end-to-end benchmark and its diagnosis: grow the pool and wait until it is
 * warm, measure what the warm pods cost, fire the burst, then report each session step as the apiserver
 * saw it, where the machine's CPU went, what the apiserver served, and how long AgentCore's reconciles
 * took — during the warm-up and during the burst — so a missed goal names its hop.
 */
import type { KubeClient } from "../../../src/kube/kube-client";
import { apiserverLoad, scrapeApiserver, untilApiserverQuiet } from "./apiserver-load";
import { cpuDelta, cpuSnapshot } from "./cpu-usage";
import { podsOf, reconcileTotals, scalePool, warmStarts } from "./platform-probe";
import { podMemory, sum } from "./pod-memory";
import { type ReadinessFlips, watchReadinessFlips } from "./readiness-flips";
import { machineMemoryMiB, percentile, type Report } from "./report";
import type { SessionTimeline } from "./session-timeline";
import { newSessionBurst, warmPoolTo } from "./warm-burst";

/** The idle platform's own writes (leases, events) run at ~1/s; the warm-up's backlog at 20-50/s. */
const QUIET_WRITES_PER_SECOND = 3;
const QUIET_WINDOW_MS = 2_000;
/** The pool at rest, measured after the apiserver went quiet and before the burst. */
const REST_WINDOW_MS = 10_000;

export interface BurstSetup {
  readonly kube: KubeClient;
  readonly clusterDir: string;
  readonly systemNamespace: string;
  readonly sandboxNamespace: string;
  readonly pool: string;
  readonly size: number;
  readonly gatewayUrls: readonly string[];
  readonly agentcoreMetricsUrls: readonly string[];
  /** One API key per concurrent client. */
  readonly keys: readonly string[];
  readonly body: string;
  readonly timeline: SessionTimeline;
  readonly memoryFloorMiB: number;
  readonly warmUpTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly log: (line: string) => void;
}

/** Pod name → the part of the platform it belongs to, for CPU accounting. */
async function podParts(s: BurstSetup): Promise<Map<string, string>> {
  const parts = new Map<string, string>();
  for (const p of await podsOf(s.kube, s.systemNamespace))
    parts.set(p.name, p.name.replace(/-[a-z0-9]+-[a-z0-9]+$/, " pods"));
  for (const p of await podsOf(s.kube, s.sandboxNamespace)) {
    parts.set(p.name, p.image.includes("code-interpreter") ? "korokd pods" : "agent pods");
  }
  return parts;
}

async function reconciles(urls: readonly string[]) {
  const all = new Map<string, { count: number; seconds: number }>();
  for (const url of urls) {
    for (const [c, v] of await reconcileTotals(url).catch(() => new Map())) {
      const a = all.get(c) ?? { count: 0, seconds: 0 };
      all.set(c, { count: a.count + v.count, seconds: a.seconds + v.seconds });
    }
  }
  return all;
}

/** AgentCore's client-side apiserver limit so far: requests delayed by it, and their summed wait. */
async function limiterTotals(
  urls: readonly string[],
): Promise<{ delayed: number; sent: number; waitS: number; wireS: number }> {
  const total = { delayed: 0, sent: 0, waitS: 0, wireS: 0 };
  for (const url of urls) {
    const text = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) })
      .then((r) => r.text())
      .catch(() => "");
    for (const m of text.matchAll(/^agentland_kube_client_requests\{delayed="(true|false)"\} (\S+)$/gm)) {
      total.sent += Number(m[2]);
      if (m[1] === "true") total.delayed += Number(m[2]);
    }
    const wait = /^agentland_kube_client_rate_limit_wait_seconds (\S+)$/m.exec(text);
    total.waitS += Number(wait?.[1] ?? 0);
    const wire = /^agentland_kube_client_wire_wait_seconds (\S+)$/m.exec(text);
    total.wireS += Number(wire?.[1] ?? 0);
  }
  return total;
}

/**
 * Starts a window of CPU by part; the function it returns ends it. Pods that appeared meanwhile are counted
 * too, and the seconds include listing them at the end, so the rate divides by the window really measured.
 */
async function cpuWindow(
  s: BurstSetup,
): Promise<() => Promise<{ cpu: [string, number][]; seconds: number }>> {
  const parts = await podParts(s);
  const cpu0 = cpuSnapshot(s.clusterDir, parts);
  const t0 = performance.now();
  return async () => {
    for (const [pod, part] of await podParts(s)) parts.set(pod, part);
    const cpu = cpuDelta(cpu0, cpuSnapshot(s.clusterDir, parts));
    return { cpu, seconds: (performance.now() - t0) / 1000 };
  };
}

/** CPU by part over a window in which nothing is asked of the platform: what a warm pool costs at rest. */
async function atRest(s: BurstSetup, ms: number): Promise<{ msPerS: Map<string, number> }> {
  const end = await cpuWindow(s);
  await Bun.sleep(ms);
  const { cpu, seconds } = await end();
  return { msPerS: new Map(cpu.map(([part, cpuS]) => [part, (1000 * cpuS) / seconds])) };
}

/** Measures `during` and reports where the CPU, the apiserver and the controllers spent the window. */
async function diagnosed<T>(
  s: BurstSetup,
  report: Report,
  window: string,
  during: () => Promise<T>,
): Promise<T> {
  const [api0, rec0] = [await scrapeApiserver(s.kube), await reconciles(s.agentcoreMetricsUrls)];
  const lim0 = await limiterTotals(s.agentcoreMetricsUrls);
  const endCpu = await cpuWindow(s);
  const t0 = performance.now();
  const result = await during();
  const seconds = (performance.now() - t0) / 1000;
  const { cpu, seconds: cpuSeconds } = await endCpu();
  const api = apiserverLoad(api0, await scrapeApiserver(s.kube));
  const rec = await reconciles(s.agentcoreMetricsUrls);
  const cores = (cpu.find(([p]) => p === "machine (all work)")?.[1] ?? 0) / cpuSeconds;
  report.note(
    `${window} (${seconds.toFixed(1)} s; CPU over ${cpuSeconds.toFixed(1)} s): CPU seconds by part — ${cpu.map(([p, c]) => `${p} ${c.toFixed(1)}`).join(", ")} ` +
      `(machine busy ${cores.toFixed(2)} of 2 cores on average; the rest of "machine" is other work on the host).`,
  );
  report.note(
    `${window}: apiserver served ${api.mutating.toFixed(0)} writes (${(api.mutating / seconds).toFixed(0)}/s, mean ${api.mutatingMeanMs.toFixed(1)} ms server-side); ` +
      `APF queue wait ${api.queueWait.map(([l, ms, n]) => `${l} ${ms.toFixed(1)} ms×${n}`).join(", ") || "none"}; ` +
      `top requests ${api.requests
        .slice(0, 10)
        .map(([k, n, ms]) => `${k} ${n}× ${ms.toFixed(0)} ms`)
        .join(", ")}; ` +
      `refused with 409: ${api.conflicts.map(([k, n]) => `${k} ${n}×`).join(", ") || "none"}.`,
  );
  const recLine = [...rec]
    .map(([c, v]): [string, number, number] => {
      const b = rec0.get(c) ?? { count: 0, seconds: 0 };
      return [c, v.count - b.count, v.seconds - b.seconds];
    })
    .filter(([, n]) => n > 0)
    .map(([c, n, sec]) => `${c} ${n}× mean ${((1000 * sec) / n).toFixed(0)} ms`);
  report.note(`${window}: AgentCore reconciles ${recLine.join(", ") || "none"}.`);
  const lim = await limiterTotals(s.agentcoreMetricsUrls);
  const delayed = lim.delayed - lim0.delayed;
  report.note(
    `${window}: AgentCore sent ${lim.sent - lim0.sent} apiserver requests; its client-side limit (kube-qps/burst) delayed ${delayed}, ` +
      `waiting ${(lim.waitS - lim0.waitS).toFixed(1)} s in all (mean ${delayed ? ((1000 * (lim.waitS - lim0.waitS)) / delayed).toFixed(0) : 0} ms); ` +
      `waiting for one of its 64 connection slots: ${(lim.wireS - lim0.wireS).toFixed(1)} s in all.`,
  );
  return result;
}

export async function burstPhase(s: BurstSetup, report: Report): Promise<{ failures: number }> {
  const flips = await watchReadinessFlips(s.kube, s.sandboxNamespace);
  try {
    return await measuredBurst(s, report, flips);
  } finally {
    await flips.stop();
  }
}

function noteFlips(report: Report, window: string, flips: ReadinessFlips, since: number): void {
  const { flips: n, pods } = flips.since(since);
  report.note(
    `${window}: running sandbox pods that lost readiness (probe failures): ${n} times, ${pods} pods.`,
  );
}

async function measuredBurst(
  s: BurstSetup,
  report: Report,
  flips: ReadinessFlips,
): Promise<{ failures: number }> {
  const warmStart = performance.now();
  const before = machineMemoryMiB();
  s.log(`growing the pool to ${s.size} (MemAvailable ${before.available.toFixed(0)} MiB)`);
  const warm = await diagnosed(s, report, "pool warm-up", () =>
    warmPoolTo(
      s.kube,
      { namespace: s.sandboxNamespace, pool: s.pool, replicas: s.size },
      { timeoutMs: s.warmUpTimeoutMs, memoryFloorMiB: s.memoryFloorMiB },
      s.log,
    ),
  );
  const korokdPods = (await podsOf(s.kube, s.sandboxNamespace)).filter((p) =>
    p.image.includes("code-interpreter"),
  );
  const mem = podMemory(
    korokdPods.map((p) => p.name),
    { pss: true },
  );
  const avail = machineMemoryMiB().available;
  const pss = mem.map((m) => m.pssMiB ?? 0);
  noteFlips(report, "pool warm-up", flips, warmStart);
  report.row({
    measurement: `pool warm-up to ${s.size}`,
    value: `${warm.reached} warm in ${(warm.ms / 1000).toFixed(1)} s`,
    baseline: warm.stopped ?? "all warm",
    goal: "warm before the burst",
  });
  report.row({
    measurement: `${mem.length} korokd pods at rest: RSS sum / PSS sum`,
    value: `${sum(mem.map((m) => m.rssMiB)).toFixed(0)} / ${sum(pss).toFixed(0)} MiB`,
    baseline: `per pod PSS p50 ${percentile(pss, 50).toFixed(1)} MiB (RSS p50 ${percentile(
      mem.map((m) => m.rssMiB),
      50,
    ).toFixed(1)} MiB counts the shared Bun executable per process)`,
  });
  report.row({
    measurement: "machine MemAvailable before → pool warm",
    value: `${before.available.toFixed(0)} → ${avail.toFixed(0)} MiB`,
    baseline: `of ${before.total.toFixed(0)} MiB, no swap; lowest ${warm.minAvailableMiB.toFixed(0)} MiB`,
  });
  report.metric("pool_warm_up_ms", warm.ms, "ms");
  report.metric("pool_warm_pods", warm.reached, "count");
  report.metric("korokd_pod_pss_p50", percentile(pss, 50), "MiB");
  report.metric("korokd_pods_pss_total", sum(pss), "MiB");
  report.metric("mem_available_at_warm_pool", avail, "MiB");
  // The warm-up's last pod status writes drain first: the burst measures the sessions, not that backlog.
  const settled = await untilApiserverQuiet(s.kube, {
    maxWritesPerSecond: QUIET_WRITES_PER_SECOND,
    windowMs: QUIET_WINDOW_MS,
    timeoutMs: 90_000,
  });
  report.row({
    measurement: "apiserver quiet after the warm-up (before the burst)",
    value: `${settled.quiet ? "after" : "not quiet after"} ${(settled.waitedMs / 1000).toFixed(1)} s`,
    baseline: `${settled.lastRate.toFixed(1)} writes/s over the last ${QUIET_WINDOW_MS / 1000} s`,
    goal: `≤ ${QUIET_WRITES_PER_SECOND} writes/s`,
  });
  report.metric("settle_after_warm_up_ms", settled.waitedMs, "ms");
  const rest = await atRest(s, REST_WINDOW_MS);
  const restOf = (part: string) => rest.msPerS.get(part) ?? 0;
  const korokdRest = restOf("korokd pods");
  const perPod = korokdRest / Math.max(1, mem.length);
  report.row({
    measurement: `${mem.length} korokd pods at rest: CPU`,
    value: `${korokdRest.toFixed(0)} ms/s in all, ${perPod.toFixed(2)} ms/s per pod`,
    baseline:
      `whole machine ${restOf("machine (all work)").toFixed(0)} ms/s of 2,000 over ${REST_WINDOW_MS / 1000} s ` +
      `with nothing asked of the platform; apiserver ${restOf("kube-apiserver").toFixed(0)}, ` +
      `node agent ${restOf("node agent").toFixed(0)}`,
  });
  const byPart = [...rest.msPerS].map(([part, ms]) => `${part} ${ms.toFixed(0)}`).join(", ");
  report.note(
    `pool at rest (${REST_WINDOW_MS / 1000} s, nothing asked of the platform): CPU ms/s by part — ${byPart}.`,
  );
  report.metric("korokd_pods_rest_cpu", korokdRest, "ms/s");
  report.metric("korokd_pod_rest_cpu", perPod, "ms/s");
  report.metric("machine_rest_cpu", restOf("machine (all work)"), "ms/s");

  const keys = s.keys.slice(0, warm.reached);
  let lowest = machineMemoryMiB().available;
  const watch = setInterval(() => {
    lowest = Math.min(lowest, machineMemoryMiB().available);
  }, 200);
  const warm0 = await warmStarts(s.gatewayUrls);
  const t0 = performance.now();
  const burst = await diagnosed(s, report, `burst of ${keys.length}`, () =>
    newSessionBurst(s.gatewayUrls, keys, s.body, s.requestTimeoutMs),
  );
  clearInterval(watch);
  noteFlips(report, `burst of ${keys.length}`, flips, t0);
  const warm1 = await warmStarts(s.gatewayUrls);
  await scalePool(s.kube, s.sandboxNamespace, s.pool, 3); // no 200-pod refill behind the burst on a shared host
  report.series(
    "burst_answer",
    `${keys.length} concurrent new sessions (one client each), time to each answer`,
    burst.answered,
    {
      value: `${burst.answered.length}/${keys.length} answered, last at ${(burst.lastAnswerMs / 1000).toFixed(2)} s`,
      baseline: `warm ${warm1.warm - warm0.warm}/${warm1.all - warm0.all}; lowest MemAvailable ${lowest.toFixed(0)} MiB`,
      goal: "all answered, last ≤ 3 s",
    },
  );
  report.metric("burst_answered", burst.answered.length, "count");
  report.metric("burst_failed", burst.failures.length, "count");
  report.metric("burst_last_answer", burst.lastAnswerMs, "ms");
  stepsReport(s.timeline.since(t0), t0, burst.answeredAt, report);
  const reasons = new Map<string, number>();
  for (const f of burst.failures) reasons.set(f.slice(0, 120), (reasons.get(f.slice(0, 120)) ?? 0) + 1);
  for (const [r, n] of reasons) report.note(`burst failures ×${n}: ${r}`);
  return { failures: burst.failures.length };
}

/** How far every session of the burst got, and how long each step took, as the apiserver showed them. */
function stepsReport(
  sessions: [string, import("./session-timeline").SessionSteps][],
  t0: number,
  answeredAt: ReadonlyMap<string, number>,
  report: Report,
) {
  const steps = sessions.map(([, st]) => st);
  const got = (f: (x: (typeof steps)[number]) => number | undefined) =>
    steps.flatMap((x) => (f(x) === undefined ? [] : [f(x) as number]));
  const created = got((x) => (x.sessionCreated === undefined ? undefined : x.sessionCreated - t0));
  const since = (x: (typeof steps)[number], at: number | undefined) =>
    at === undefined || x.sessionCreated === undefined ? undefined : at - x.sessionCreated;
  const taken = got((x) => since(x, x.sandboxTaken));
  const claimed = got((x) => since(x, x.claimCreated));
  const bound = got((x) => since(x, x.claimBound));
  const ready = got((x) => since(x, x.sessionReady));
  // The answer is due once the sandbox is taken (the create answers from that write).
  const answered = sessions.flatMap(([name, x]) => {
    const at = answeredAt.get(name);
    return at === undefined || x.sandboxTaken === undefined ? [] : [at - x.sandboxTaken];
  });
  report.series(
    "burst_step_session_created",
    `  burst: start → CodeInterpreter created (${created.length} created)`,
    created,
  );
  report.series(
    "burst_step_sandbox_taken",
    `  burst: CodeInterpreter → warm sandbox taken (${taken.length})`,
    taken,
  );
  report.series(
    "burst_step_claim_created",
    `  burst: CodeInterpreter → SandboxClaim created, off the answer's path (${claimed.length})`,
    claimed,
  );
  report.series(
    "burst_step_claim_bound",
    `  burst: CodeInterpreter → claim status Bound, off the path (${bound.length})`,
    bound,
  );
  report.series(
    "burst_step_session_ready",
    `  burst: CodeInterpreter → its status Ready, off the path (${ready.length})`,
    ready,
  );
  report.series(
    "burst_step_taken_to_answer",
    `  burst: sandbox taken → answer (RPC answer, token, proxy, first run) (${answered.length})`,
    answered,
  );
}
