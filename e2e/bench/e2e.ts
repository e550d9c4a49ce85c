/**
 * `bun run bench e2e`: the platform exactly as command A brings it up, measured from a client's side.
 * - new session from the warm pool → first result through the gateway (`print(1+1)`), vs the same code
 *   sent straight to a korokd pod's warm interpreter is not possible without a token, so the floor shown
 *   is one warm run in an existing session;
 * - a run in an existing session through the gateway;
 * - RSS of each component (gateway, agentcore, korokd pods) idle and after the load.
 */
import { readdirSync, readFileSync } from "node:fs";
import { readClusterInfo } from "../cluster/cluster-state";
import { bringUpPlatform, SANDBOX_NS, SYSTEM_NS } from "../platform/bring-up-platform";

const NEW_SESSIONS = 20;
const RUNS = 200;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};
const metric = (name: string, value: number, unit = "ms") =>
  console.log(JSON.stringify({ bench: "e2e", metric: name, value: Number(value.toFixed(3)), unit }));

const cluster = readClusterInfo(process.env["AGENTLAND_CLUSTER_DIR"] ?? "");
if (!cluster) throw new Error("run through `bun run bench e2e` (it starts the cluster)");
const platform = await bringUpPlatform(cluster, (l) => console.error(`    ${l}`));
const gw = platform.gatewayUrls[0] ?? "";
const headers = { authorization: `Bearer ${platform.apiKey}`, "content-type": "application/json" };
const body = JSON.stringify({ language: "python", code: "print(1+1)" });

async function run(extra: Record<string, string> = {}): Promise<{ ms: number; session: string }> {
  const t = performance.now();
  const res = await fetch(`${gw}/api/code-runner/run`, {
    method: "POST",
    headers: { ...headers, ...extra },
    body,
  });
  const out = (await res.json()) as { stdout?: string };
  if (out.stdout !== "2\n") throw new Error(`unexpected result ${res.status} ${JSON.stringify(out)}`);
  return { ms: performance.now() - t, session: res.headers.get("x-agentland-session") ?? "" };
}

async function available(): Promise<number> {
  const out = await platform.kubectl([
    "-n",
    SANDBOX_NS,
    "get",
    "sandboxpool",
    "code-interpreter",
    "-o",
    "jsonpath={.status.availableReplicas}",
  ]);
  return Number(out.trim() || "0");
}

/** RSS (MiB) per pod matching a label: the sum over processes whose environment names the pod (POD_NAME). */
async function rssMiB(namespace: string, selector: string): Promise<number[]> {
  const pods = (
    await platform.kubectl([
      "-n",
      namespace,
      "get",
      "pods",
      "-l",
      selector,
      "-o",
      "jsonpath={.items[*].metadata.name}",
    ])
  )
    .split(" ")
    .filter((p) => p !== "");
  const kb = new Map<string, number>(pods.map((p) => [p, 0]));
  for (const pid of readdirSync("/proc").filter((e) => /^\d+$/.test(e))) {
    try {
      const env = readFileSync(`/proc/${pid}/environ`, "utf8");
      const pod = /(?:^|\0)POD_NAME=([^\0]*)/.exec(env)?.[1];
      if (pod === undefined || !kb.has(pod)) continue;
      const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
      kb.set(pod, (kb.get(pod) ?? 0) + Number(rss ?? 0));
    } catch {
      // exited while we looked
    }
  }
  return [...kb.values()].filter((v) => v > 0).map((v) => v / 1024);
}

const fresh: number[] = [];
for (let i = 0; i < NEW_SESSIONS; i++) {
  while ((await available()) < 1) await Bun.sleep(100);
  const r = await run();
  fresh.push(r.ms);
  await fetch(`${gw}/api/sessions/${r.session}`, { method: "DELETE", headers });
}
const { session } = await run();
const reuse: number[] = [];
for (let i = 0; i < RUNS; i++) reuse.push((await run({ "x-agentland-session": session })).ms);

console.log("\nend-to-end through the gateway pods (host-process node, loopback)");
console.log("| measurement | p50 ms | p99 ms | goal |\n|---|---:|---:|---|");
console.log(
  `| new session from warm pool → first result | ${pct(fresh, 50).toFixed(1)} | ${pct(fresh, 99).toFixed(1)} | p50 ≤ 50, p99 ≤ 150 |`,
);
console.log(
  `| run in an existing session | ${pct(reuse, 50).toFixed(2)} | ${pct(reuse, 99).toFixed(2)} | p50 ≤ 2 |`,
);
console.log(`| ratio new/existing (p50) | ${(pct(fresh, 50) / pct(reuse, 50)).toFixed(1)}x | | |`);
metric("new_session_first_result_p50", pct(fresh, 50));
metric("new_session_first_result_p99", pct(fresh, 99));
metric("existing_session_run_p50", pct(reuse, 50));
metric("existing_session_run_p99", pct(reuse, 99));
for (const [name, ns, sel] of [
  ["gateway", SYSTEM_NS, "app.kubernetes.io/component=gateway"],
  ["agentcore", SYSTEM_NS, "app.kubernetes.io/component=agentcore"],
  ["korokd", SANDBOX_NS, "agentland.fl0rencess720.app/pool=code-interpreter"],
] as const) {
  const rss = await rssMiB(ns, sel);
  if (rss.length > 0) metric(`rss_${name}_after_load_max`, Math.max(...rss), "MiB");
}
process.exit(0);
