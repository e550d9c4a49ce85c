/**
 * `bun run bench kube`: the src/kube layer against raw HTTP to the same apiserver, in one run.
 *   - informer over 5,000 ConfigMaps: initial sync time and resident memory (each in a fresh child process)
 *     vs. a bare paginated `fetch` list kept in a Map;
 *   - event-to-handler latency (write sent → handler called) of the informer vs. a bare watch stream
 *     reading the same events at the same time;
 *   - one GET through the client (rate limiter, deadline, retries, error mapping) vs. a bare `fetch`.
 * Needs the local cluster (AGENTLAND_CLUSTER_DIR). Bounded: ~5,000 writes + 400 timed updates.
 */

import { heapStats } from "bun:jsc";
import { createInformer } from "../../src/kube/informer";
import { createKubeClient } from "../../src/kube/kube-client";
import { loadKubeconfigFile } from "../../src/kube/kube-config";
import { CONFIG_MAPS, NAMESPACES } from "../../src/kube/resources";
import { testCluster } from "../harness/test-cluster";

const OBJECTS = 5_000;
const UPDATES = 400;
const GETS = 500;

const cluster = testCluster();
const config = loadKubeconfigFile(cluster.kubeconfig);
const tls = { ca: config.tls.ca, cert: config.tls.cert, key: config.tls.key };
const rawFetch = (path: string, init: RequestInit = {}) =>
  fetch(`${config.server}${path}`, { ...init, tls } as RequestInit);

const child = process.argv.find((a) => a.startsWith("--child="))?.slice(8);
if (child) {
  await runChild(child, process.argv.find((a) => a.startsWith("--ns="))?.slice(5) ?? "");
  process.exit(0);
}

interface Row {
  readonly what: string;
  readonly ours: number;
  readonly base: number;
  readonly unit: string;
}
const rows: Row[] = [];
const metrics: { metric: string; value: number; unit: string }[] = [];
const record = (metric: string, ours: number, base: number, unit: string, what: string) => {
  rows.push({ what, ours, base, unit });
  metrics.push(
    { metric, value: round(ours), unit },
    { metric: `${metric}_baseline`, value: round(base), unit },
  );
  if (base > 0) metrics.push({ metric: `${metric}_ratio`, value: round(ours / base), unit: "x" });
};
const round = (n: number) => Math.round(n * 100) / 100;
const pct = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

const client = createKubeClient(config, { qps: 0 });
const ns =
  (await client.resource(NAMESPACES).create({ metadata: { generateName: "bench-kube-" } })).metadata?.name ??
  "";
const configMaps = client.resource(CONFIG_MAPS);
try {
  await populate();
  await syncAndMemory();
  await eventLatency();
  await getLatency();
} finally {
  await client
    .resource(NAMESPACES)
    .delete(ns, { propagationPolicy: "Background" })
    .catch(() => {});
}
printTable();

async function populate(): Promise<void> {
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 100 }, async () => {
      while (next < OBJECTS) {
        const i = next++;
        const name = `cm-${String(i).padStart(5, "0")}`;
        await configMaps.create(
          { metadata: { name, labels: { bench: "kube" } }, data: { i: String(i) } },
          { namespace: ns },
        );
      }
    }),
  );
  console.error(`created ${OBJECTS} ConfigMaps in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

/** Informer and bare list alternate, three fresh processes each; the median of each is reported. */
async function syncAndMemory(): Promise<void> {
  type Result = { ms: number; heapMiB: number; rssMiB: number; rssDeltaMiB: number; count: number };
  const run = async (kind: string): Promise<Result> => {
    const proc = Bun.spawn([process.execPath, import.meta.path, `--child=${kind}`, `--ns=${ns}`], {
      stdout: "pipe",
      stderr: "inherit",
    });
    const out = await new Response(proc.stdout).text();
    if ((await proc.exited) !== 0) throw new Error(`child ${kind} failed`);
    const result = JSON.parse(out) as Result;
    if (result.count < OBJECTS) throw new Error(`${kind}: expected ${OBJECTS} objects, got ${result.count}`);
    return result;
  };
  const informer: Result[] = [];
  const raw: Result[] = [];
  for (let i = 0; i < 3; i++) {
    informer.push(await run("informer"));
    raw.push(await run("raw-list"));
  }
  const median = (rs: Result[], key: keyof Result) =>
    rs.map((r) => r[key]).sort((a, b) => a - b)[1] ?? Number.NaN;
  record(
    "informer_sync",
    median(informer, "ms"),
    median(raw, "ms"),
    "ms",
    `initial sync, ${OBJECTS} objects (vs bare list)`,
  );
  record(
    "informer_heap",
    median(informer, "heapMiB"),
    median(raw, "heapMiB"),
    "MiB",
    "JS heap retained by the cache (after GC)",
  );
  record(
    "informer_rss",
    median(informer, "rssMiB"),
    median(raw, "rssMiB"),
    "MiB",
    "resident memory after sync (process)",
  );
  record(
    "informer_rss_delta",
    median(informer, "rssDeltaMiB"),
    median(raw, "rssDeltaMiB"),
    "MiB",
    "resident memory added by the sync",
  );
}

/** In a fresh process: sync (informer or bare list), then report time and memory. */
async function runChild(kind: string, namespace: string): Promise<void> {
  Bun.gc(true);
  const before = process.memoryUsage().rss;
  const heapBefore = heapStats().heapSize;
  const t0 = performance.now();
  let count = 0;
  let keep: unknown;
  if (kind === "informer") {
    const informer = createInformer(createKubeClient(config, { qps: 0 }).resource(CONFIG_MAPS), {
      namespace,
    });
    informer.start();
    await informer.waitForSync();
    count = informer.list().length;
    keep = informer;
  } else {
    const store = new Map<string, unknown>();
    let token = "";
    do {
      const q = `?limit=500${token ? `&continue=${encodeURIComponent(token)}` : ""}`;
      const page = (await (await rawFetch(`/api/v1/namespaces/${namespace}/configmaps${q}`)).json()) as {
        items: { metadata: { name: string } }[];
        metadata: { continue?: string };
      };
      for (const item of page.items) store.set(`${namespace}/${item.metadata.name}`, item);
      token = page.metadata.continue ?? "";
    } while (token);
    count = store.size;
    keep = store;
  }
  const ms = performance.now() - t0;
  Bun.gc(true);
  const rss = process.memoryUsage().rss;
  const heapMiB = (heapStats().heapSize - heapBefore) / 2 ** 20;
  console.log(
    JSON.stringify({
      ms,
      heapMiB,
      rssMiB: rss / 2 ** 20,
      rssDeltaMiB: (rss - before) / 2 ** 20,
      count,
      kept: keep !== undefined,
    }),
  );
}

async function eventLatency(): Promise<void> {
  const sent = new Map<string, number>();
  const viaInformer: number[] = [];
  const viaRaw: number[] = [];
  const informer = createInformer(configMaps, { namespace: ns });
  informer.addHandlers({
    onUpdate: (_old, obj) => {
      const at = sent.get(obj.data?.["seq"] ?? "");
      if (at !== undefined) viaInformer.push(performance.now() - at);
    },
  });
  informer.start();
  await informer.waitForSync();
  const stopRaw = await rawWatch(informer.resourceVersion, (seq, now) => {
    const at = sent.get(seq);
    if (at !== undefined) viaRaw.push(now - at);
  });
  for (let i = 0; i < UPDATES; i++) {
    const seq = `u${i}`;
    const name = `cm-${String(i % OBJECTS).padStart(5, "0")}`;
    sent.set(seq, performance.now());
    await configMaps.patch(name, { namespace: ns, type: "merge", patch: { data: { seq } } });
  }
  const deadline = performance.now() + 10_000;
  while ((viaInformer.length < UPDATES || viaRaw.length < UPDATES) && performance.now() < deadline)
    await Bun.sleep(20);
  stopRaw();
  await informer.stop();
  viaInformer.sort((a, b) => a - b);
  viaRaw.sort((a, b) => a - b);
  record(
    "event_to_handler_p50",
    pct(viaInformer, 50),
    pct(viaRaw, 50),
    "ms",
    "event → handler p50 (vs bare watch stream)",
  );
  record(
    "event_to_handler_p99",
    pct(viaInformer, 99),
    pct(viaRaw, 99),
    "ms",
    "event → handler p99 (vs bare watch stream)",
  );
  if (viaInformer.length < UPDATES || viaRaw.length < UPDATES) {
    throw new Error(`lost events: informer ${viaInformer.length}, raw ${viaRaw.length} of ${UPDATES}`);
  }
}

/** A bare watch: fetch + newline split + JSON.parse, nothing else. */
async function rawWatch(rv: string, onEvent: (seq: string, now: number) => void): Promise<() => void> {
  const ctl = new AbortController();
  const res = await rawFetch(`/api/v1/namespaces/${ns}/configmaps?watch=true&resourceVersion=${rv}`, {
    signal: ctl.signal,
  });
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  void (async () => {
    let buf = "";
    for (;;) {
      const chunk = await reader.read().catch(() => ({ done: true as const, value: undefined }));
      if (chunk.done) return;
      buf += decoder.decode(chunk.value, { stream: true });
      for (let nl = buf.indexOf("\n"); nl !== -1; nl = buf.indexOf("\n")) {
        const event = JSON.parse(buf.slice(0, nl)) as { object: { data?: Record<string, string> } };
        buf = buf.slice(nl + 1);
        const seq = event.object.data?.["seq"];
        if (seq) onEvent(seq, performance.now());
      }
    }
  })();
  return () => ctl.abort();
}

/** Client GET vs bare fetch, interleaved call by call so both see the same apiserver load. */
async function getLatency(): Promise<void> {
  const path = `/api/v1/namespaces/${ns}/configmaps/cm-00001`;
  const ours: number[] = [];
  const raw: number[] = [];
  const timed = async (into: number[], once: () => Promise<unknown>) => {
    const t0 = performance.now();
    await once();
    into.push(performance.now() - t0);
  };
  for (let i = 0; i < GETS; i++) {
    await timed(ours, () => configMaps.get("cm-00001", { namespace: ns }));
    await timed(raw, async () => (await rawFetch(path)).json());
  }
  ours.sort((a, b) => a - b);
  raw.sort((a, b) => a - b);
  record("get_p50", pct(ours, 50), pct(raw, 50), "ms", "GET one object p50 (vs bare fetch)");
  record("get_p99", pct(ours, 99), pct(raw, 99), "ms", "GET one object p99 (vs bare fetch)");
}

function printTable(): void {
  const pad = (s: string, n: number) => s.padEnd(n);
  console.log(`\n${pad("kube", 58)}${pad("src/kube", 12)}${pad("baseline", 12)}ratio`);
  for (const r of rows) {
    const ratio = r.base > 0 ? `${(r.ours / r.base).toFixed(2)}x` : "-";
    console.log(
      `${pad(r.what, 58)}${pad(`${r.ours.toFixed(1)} ${r.unit}`, 12)}${pad(`${r.base.toFixed(1)} ${r.unit}`, 12)}${ratio}`,
    );
  }
  console.log();
  for (const m of metrics) console.log(JSON.stringify({ bench: "kube", ...m }));
}
