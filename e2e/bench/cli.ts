/**
 * `bun run bench [area ...]`: runs the benchmark suite (default: every area) against one real local cluster
 * started for the run, then prints one summary table of every metric and the JSON lines the areas printed.
 * Each area is a standalone script `e2e/bench/<area>.ts` that measures its subject and baseline side by side.
 */
import { existsSync, readFileSync } from "node:fs";
import { availableParallelism, totalmem } from "node:os";
import { join } from "node:path";
import { createKubeClient, type KubeClient } from "../../src/kube/kube-client";
import { loadKubeconfigFile } from "../../src/kube/kube-config";
import { NAMESPACES } from "../../src/kube/resources";
import { clusterDown, clusterUp } from "../cluster/control-plane";
import { ensureSystemPackages } from "../setup/system-packages";

const AREAS = ["kube", "controllers", "agentcore", "korokd", "gateway", "node", "e2e", "real-node"] as const;

interface Metric {
  readonly bench: string;
  readonly metric: string;
  readonly value: number;
  readonly unit: string;
}

/** 1-, 5- and 15-minute load averages: the machine is shared, so every number needs its load beside it. */
const loadAverage = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");

async function runArea(
  area: string,
  env: Record<string, string>,
): Promise<{ code: number; metrics: Metric[]; summary: string }> {
  console.error(`\n==> bench ${area}`);
  const before = loadAverage();
  const t0 = performance.now();
  const proc = Bun.spawn(["bun", join(import.meta.dir, `${area}.ts`)], {
    stdout: "pipe",
    stderr: "inherit",
    env: { ...process.env, ...env },
  });
  const out = await new Response(proc.stdout).text();
  process.stdout.write(out);
  const metrics: Metric[] = [];
  for (const line of out.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const m = JSON.parse(line) as Metric;
      if (typeof m.metric === "string" && typeof m.value === "number") metrics.push(m);
    } catch {
      // not a metric line
    }
  }
  const code = await proc.exited;
  const seconds = ((performance.now() - t0) / 1000).toFixed(0);
  return { code, metrics, summary: `${area}: ${seconds} s, exit ${code}, load ${before} → ${loadAverage()}` };
}

/** How long an area's namespaces may take to go before the next area starts anyway. */
const SETTLE_TIMEOUT_MS = 300_000;

/**
 * Waits until no namespace is terminating. Areas delete their namespaces without waiting, and a namespace's
 * pods take seconds to go (hundreds after the controllers area): the next area would measure on cores still
 * busy with that teardown. Says how long it waited, for the summary.
 */
async function settle(client: KubeClient): Promise<string> {
  const t0 = performance.now();
  for (;;) {
    const { items } = await client.resource(NAMESPACES).list();
    const going = items.filter((ns) => ns.status?.phase === "Terminating").length;
    const seconds = ((performance.now() - t0) / 1000).toFixed(0);
    if (going === 0) return `settled ${seconds} s`;
    if (performance.now() - t0 > SETTLE_TIMEOUT_MS)
      return `${going} namespaces still terminating after ${seconds} s`;
    await Bun.sleep(1_000);
  }
}

async function main(requested: readonly string[]): Promise<number> {
  const unknown = requested.filter((a) => !(AREAS as readonly string[]).includes(a));
  if (unknown.length > 0) {
    console.error(`unknown benchmark area(s): ${unknown.join(", ")}; areas: ${AREAS.join(", ")}`);
    return 2;
  }
  const areas = (requested.length > 0 ? requested : AREAS).filter((a) =>
    existsSync(join(import.meta.dir, `${a}.ts`)),
  );
  await ensureSystemPackages();
  const name = `bench-${process.pid}`;
  const all: Metric[] = [];
  const summaries: string[] = [];
  let failed = 0;
  try {
    const cluster = await clusterUp({ name, log: (l) => console.error(`    ${l}`) });
    const env = { AGENTLAND_CLUSTER_DIR: cluster.dir, KUBECONFIG: cluster.kubeconfig };
    const client = createKubeClient(loadKubeconfigFile(cluster.kubeconfig));
    for (const [i, area] of areas.entries()) {
      const { code, metrics, summary } = await runArea(area, env);
      if (code !== 0) failed++;
      all.push(...metrics);
      summaries.push(i < areas.length - 1 ? `${summary}, ${await settle(client)}` : summary);
    }
  } finally {
    await clusterDown(name);
  }
  console.log("\n| bench | metric | value | unit |\n|---|---|---:|---|");
  for (const m of all)
    console.log(`| ${m.bench} | ${m.metric} | ${Number(m.value.toPrecision(4))} | ${m.unit} |`);
  const gib = (totalmem() / 2 ** 30).toFixed(1);
  console.log(`\nmachine: ${availableParallelism()} vCPU, ${gib} GiB RAM; per area: ${summaries.join("; ")}`);
  return failed === 0 ? 0 : 1;
}

process.exit(await main(process.argv.slice(2)));
