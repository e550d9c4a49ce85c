/**
 * What the apiserver served between two scrapes of its /metrics: requests by verb and resource, their mean
 * server-side latency, and the time requests queued in API Priority and Fairness. Together with the
 * controllers' own reconcile times this tells a slow apiserver from a client waiting on its own rate limit.
 */
import type { KubeClient } from "../../../src/kube/kube-client";

export type MetricsScrape = ReadonlyMap<string, number>;

const FAMILIES = [
  "apiserver_request_total",
  "apiserver_request_duration_seconds_sum",
  "apiserver_request_duration_seconds_count",
  "apiserver_flowcontrol_request_wait_duration_seconds_sum",
  "apiserver_flowcontrol_request_wait_duration_seconds_count",
];

export async function scrapeApiserver(kube: KubeClient): Promise<MetricsScrape> {
  const res = await kube.openStream({ path: "/metrics", timeoutMs: 30_000 });
  const out = new Map<string, number>();
  for (const line of (await res.text()).split("\n")) {
    const brace = line.indexOf("{");
    if (brace < 0 || !FAMILIES.includes(line.slice(0, brace))) continue;
    const space = line.lastIndexOf(" ");
    out.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return out;
}

const label = (series: string, name: string) => new RegExp(`[{,]${name}="([^"]*)"`).exec(series)?.[1] ?? "";

export interface ApiserverLoad {
  /** `VERB resource[/subresource]` → requests and their mean server-side ms, most first (no watches). */
  readonly requests: [string, number, number][];
  readonly mutating: number;
  /** Mean server-side latency of mutating requests, ms. */
  readonly mutatingMeanMs: number;
  /** Mean wait in the APF queues per priority level, ms, with the number of requests. */
  readonly queueWait: [string, number, number][];
  /** `VERB resource` → requests refused with 409 (a lost optimistic-concurrency race, or AlreadyExists). */
  readonly conflicts: [string, number][];
}

export function apiserverLoad(before: MetricsScrape, after: MetricsScrape): ApiserverLoad {
  const delta = (k: string) => (after.get(k) ?? 0) - (before.get(k) ?? 0);
  const requests = new Map<string, number>();
  const conflicts = new Map<string, number>();
  let mutating = 0;
  let durSum = 0;
  let durCount = 0;
  const wait = new Map<string, [number, number]>();
  const meanMs = new Map<string, [number, number]>();
  for (const series of after.keys()) {
    const verb = label(series, "verb");
    const what = [label(series, "resource"), label(series, "subresource")].filter(Boolean).join("/");
    const isMutating = ["POST", "PUT", "PATCH", "DELETE"].includes(verb);
    if (series.startsWith("apiserver_request_total{") && verb !== "WATCH") {
      requests.set(`${verb} ${what}`, (requests.get(`${verb} ${what}`) ?? 0) + delta(series));
      if (isMutating) mutating += delta(series);
      if (label(series, "code") === "409")
        conflicts.set(`${verb} ${what}`, (conflicts.get(`${verb} ${what}`) ?? 0) + delta(series));
    } else if (series.startsWith("apiserver_request_duration_seconds_sum{") && verb !== "WATCH") {
      const n = delta(series.replace("_sum{", "_count{"));
      const m = meanMs.get(`${verb} ${what}`) ?? [0, 0];
      meanMs.set(`${verb} ${what}`, [m[0] + delta(series), m[1] + n]);
      if (isMutating) {
        durSum += delta(series);
        durCount += n;
      }
    } else if (series.startsWith("apiserver_flowcontrol_request_wait_duration_seconds_sum{")) {
      const level = label(series, "priority_level");
      const w = wait.get(level) ?? [0, 0];
      wait.set(level, [w[0] + delta(series), w[1] + delta(series.replace("_sum{", "_count{"))]);
    }
  }
  return {
    requests: [...requests]
      .filter(([, n]) => n > 0)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]): [string, number, number] => {
        const [sec, count] = meanMs.get(k) ?? [0, 0];
        return [k, n, count > 0 ? (1000 * sec) / count : 0];
      }),
    mutating,
    mutatingMeanMs: durCount > 0 ? (1000 * durSum) / durCount : 0,
    queueWait: [...wait]
      .filter(([, [, n]]) => n > 0)
      .map(([level, [s, n]]): [string, number, number] => [level, (1000 * s) / n, n])
      .sort((a, b) => b[1] - a[1]),
    conflicts: [...conflicts].filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]),
  };
}

/**
 * Waits until the apiserver serves at most `maxWritesPerSecond` writes over `windowMs` (the background of
 * leases and events), or `timeoutMs` passes. A pool reported warm can still have the node's pod status
 * writes of its last minute queued behind it; a burst fired into that backlog measures the backlog.
 * Returns how long it waited and whether the apiserver became quiet.
 */
export async function untilApiserverQuiet(
  kube: KubeClient,
  opts: { maxWritesPerSecond: number; windowMs: number; timeoutMs: number },
): Promise<{ waitedMs: number; quiet: boolean; lastRate: number }> {
  const t0 = performance.now();
  let before = await scrapeApiserver(kube);
  let lastRate = Number.POSITIVE_INFINITY;
  while (performance.now() - t0 < opts.timeoutMs) {
    const from = performance.now();
    await Bun.sleep(opts.windowMs);
    const after = await scrapeApiserver(kube);
    lastRate = apiserverLoad(before, after).mutating / ((performance.now() - from) / 1000);
    before = after;
    if (lastRate <= opts.maxWritesPerSecond)
      return { waitedMs: performance.now() - t0, quiet: true, lastRate };
  }
  return { waitedMs: performance.now() - t0, quiet: false, lastRate };
}
