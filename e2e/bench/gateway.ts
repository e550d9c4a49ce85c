/**
 * `bun run bench gateway`: the gateway's overhead over calling the sandbox directly, side by side in one
 * run, on the real stack (gateway process, AgentCore, korokd and echo-agent processes, local apiserver):
 *   - latency at c=1 of an in-context `print(1+1)` run in an existing session: through the gateway
 *     (authentication, session lookup, a fresh token, proxy) vs. straight to korokd with pre-minted
 *     tokens; the two alternate call by call so drift hits both alike (goal: ≤ 0.3 ms p50 added);
 *     a bare Bun `fetch` proxy in between shows what one more hop costs by itself;
 *   - throughput of small agent invocations at c=32 (wrk, Debian package `wrk`) through the gateway vs.
 *     straight to the echo agent and vs. the bare `fetch` proxy (goal: ≥ 8,000 req/s through the gateway),
 *     with each proxy's CPU time per request: the machine is shared (2 cores, wrk and the agent on them too),
 *     so req/s swings with other load while CPU per request and the gateway/bare-proxy ratios hold;
 *   - the gateway's RSS after the load.
 * Bounded: ~5,000 sequential runs, two 2 s warm-up wrk runs and five 4 s wrk runs (gateway and bare proxy
 * alternate).
 *
 * `bun e2e/bench/gateway.ts --serve-fetch-proxy <origin>` is the bare proxy itself (a child process, so
 * its CPU is counted apart): every request's path and query go to `<origin>` with method, headers and body.
 */
import { readFileSync } from "node:fs";
import { CODE_INTERPRETERS } from "../../src/api/resource-types";
import { type GatewayStack, startGatewayStack } from "../../src/gateway/testing/gateway-stack";
import { type Child, spawnChild } from "../../src/gateway/testing/processes";
import { gatewayMinter } from "../platform/bench/sandbox-access";

const RUNS = 1500;
const WARMUP = 300;
const WRK_SECONDS = 4;
const WRK_ROUNDS = 2;
const WARMUP_SECONDS = 2;
const WRK_CONNECTIONS = 32;
const INVOCATIONS = "/api/agent-sessions/invocations";

const metrics: { metric: string; value: number; unit: string }[] = [];
const metric = (name: string, value: number, unit: string) => metrics.push({ metric: name, value, unit });

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** The bare baseline proxy: path and query (minus the invocations prefix) to `origin`, nothing else. */
function serveFetchProxy(origin: string): void {
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const url = req.url;
      let target = url.slice(url.indexOf("/", url.indexOf("://") + 3));
      if (target.startsWith(INVOCATIONS)) target = target.slice(INVOCATIONS.length);
      return fetch(origin + target, { method: req.method, headers: req.headers, body: req.body });
    },
  });
  console.log(JSON.stringify({ msg: "fetch proxy listening", url: `http://127.0.0.1:${server.port}` }));
}

async function startFetchProxy(origin: string): Promise<{ url: string; child: Child }> {
  // This file imports the test stack, which wants to know the cluster even in the proxy child.
  const env = { AGENTLAND_CLUSTER_DIR: process.env["AGENTLAND_CLUSTER_DIR"] ?? "" };
  const { child, line } = await spawnChild(
    ["e2e/bench/gateway.ts", "--serve-fetch-proxy", origin],
    env,
    (l) => l.includes("fetch proxy listening"),
  );
  return { url: (JSON.parse(line) as { url: string }).url, child };
}

interface RunTarget {
  readonly url: string;
  readonly headers: () => Record<string, string>;
}

async function runOnce(target: RunTarget, body: string): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(target.url, { method: "POST", headers: target.headers(), body });
  const out = (await res.json()) as { stdout?: string };
  const elapsed = performance.now() - t0;
  if (out.stdout !== "2\n") throw new Error(`run answered ${res.status} ${JSON.stringify(out)}`);
  return elapsed;
}

interface Percentiles {
  readonly p50: number;
  readonly p99: number;
}

/** In-context `print(1+1)`: gateway, bare proxy and direct alternate, each sample timed on its own. */
async function runLatency(stack: GatewayStack): Promise<Record<"gateway" | "proxy" | "direct", Percentiles>> {
  const apiKey = stack.apiKeys["alice"] as string;
  const auth = { authorization: `Bearer ${apiKey}`, "content-type": "application/json" };
  const created = await fetch(`${stack.gateway.url}/api/code-runner/contexts`, {
    method: "POST",
    headers: auth,
    body: JSON.stringify({ language: "python" }),
  });
  const session = created.headers.get("x-agentland-session") as string;
  const { id: contextId } = (await created.json()) as { id: string };
  const pod = await podOf(stack, session);
  const tokens = await directTokens(stack, pod.identity, session, 2 * (RUNS + WARMUP));
  let next = 0;
  const direct = (url: string): RunTarget => ({
    url,
    headers: () => ({ authorization: `Bearer ${tokens[next++]}`, "content-type": "application/json" }),
  });
  const proxy = await startFetchProxy(pod.url);
  const targets = {
    gateway: {
      url: `${stack.gateway.url}/api/code-runner/run`,
      headers: () => ({ ...auth, "x-agentland-session": session }),
    },
    proxy: direct(`${proxy.url}/api/execute`),
    direct: direct(`${pod.url}/api/execute`),
  };
  const body = JSON.stringify({ language: "python", code: "print(1+1)", context_id: contextId });
  const samples = { gateway: [] as number[], proxy: [] as number[], direct: [] as number[] };
  try {
    for (let i = 0; i < WARMUP + RUNS; i++) {
      for (const name of ["gateway", "proxy", "direct"] as const) {
        const ms = await runOnce(targets[name], body);
        if (i >= WARMUP) samples[name].push(ms);
      }
    }
  } finally {
    await proxy.child.stop();
  }
  const summary = (xs: number[]): Percentiles => {
    xs.sort((a, b) => a - b);
    return { p50: percentile(xs, 50), p99: percentile(xs, 99) };
  };
  return {
    gateway: summary(samples.gateway),
    proxy: summary(samples.proxy),
    direct: summary(samples.direct),
  };
}

/** Tokens for calling korokd without the gateway, from the gateway's own key set, minted before timing. */
async function directTokens(stack: GatewayStack, audience: string, sessionId: string, count: number) {
  const { minter, stop } = await gatewayMinter(stack.kube, stack.home);
  const tokens = Array.from({ length: count }, () => minter.mint({ audience, sessionId }));
  stop();
  return tokens;
}

async function podOf(stack: GatewayStack, session: string) {
  const obj = await stack.kube.resource(CODE_INTERPRETERS).get(session, { namespace: stack.ns });
  const pod = stack.korokds.find((p) => p.name === obj.status?.podName);
  if (pod === undefined) throw new Error(`session ${session} is on no known korokd pod`);
  return pod;
}

interface WrkResult {
  readonly requests: number;
  readonly seconds: number;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
}

async function wrk(url: string, headers: Record<string, string>, duration = WRK_SECONDS): Promise<WrkResult> {
  const args = ["wrk", "-t2", `-c${WRK_CONNECTIONS}`, `-d${duration}s`, "--latency"];
  for (const [k, v] of Object.entries(headers)) args.push("-H", `${k}: ${v}`);
  const proc = Bun.spawn([...args, url], { stdout: "pipe", stderr: "inherit" });
  const out = await new Response(proc.stdout).text();
  if ((await proc.exited) !== 0) throw new Error(`wrk failed:\n${out}`);
  const latency = (p: string) => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s)`, "m").exec(out);
    if (m === null) return Number.NaN;
    return Number(m[1]) * ({ us: 0.001, ms: 1, s: 1000 } as Record<string, number>)[m[2] as string]!;
  };
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = non2xx + (socket ? socket.slice(1).reduce((a, b) => a + Number(b), 0) : 0);
  const timing = /(\d+) requests in ([\d.]+)(ms|s)/.exec(out);
  const requests = Number(timing?.[1]);
  const seconds = Number(timing?.[2]) / (timing?.[3] === "ms" ? 1000 : 1);
  return { requests, seconds, rps: requests / seconds, p50: latency("50"), p99: latency("99"), errors };
}

/** User + system CPU time of a process (or one of its threads) so far, in ms (from /proc; clock ticks are 10 ms here). */
function cpuMs(pid: number, thread?: number): number {
  const path = thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`;
  const fields = (readFileSync(path, "utf8").split(") ")[1] ?? "").split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** The machine's 1-minute load average: these numbers are only comparable at similar load. */
function loadAverage(): number {
  return Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
}

/** One wrk run, with the CPU time per request of the proxy in front (if any) and of the agent behind. */
interface LoadRun extends WrkResult {
  readonly proxyCpuUs: number;
  /** Of that, the proxy's main thread (the one request loop; a worker may sign beside it). */
  readonly proxyMainCpuUs: number;
  readonly agentCpuUs: number;
  readonly load: number;
}

async function loadRun(
  url: string,
  headers: Record<string, string>,
  pids: { proxy?: number; agent: number },
): Promise<LoadRun> {
  const proxyBefore = pids.proxy === undefined ? 0 : cpuMs(pids.proxy);
  const mainBefore = pids.proxy === undefined ? 0 : cpuMs(pids.proxy, pids.proxy);
  const agentBefore = cpuMs(pids.agent);
  const r = await wrk(url, headers);
  const perRequest = (ms: number) => (ms * 1000) / r.requests;
  return {
    ...r,
    proxyCpuUs: pids.proxy === undefined ? 0 : perRequest(cpuMs(pids.proxy) - proxyBefore),
    proxyMainCpuUs: pids.proxy === undefined ? 0 : perRequest(cpuMs(pids.proxy, pids.proxy) - mainBefore),
    agentCpuUs: perRequest(cpuMs(pids.agent) - agentBefore),
    load: loadAverage(),
  };
}

/** Several runs of one subject as one: total requests over total time, CPU weighted by requests. */
function combine(runs: readonly LoadRun[]): LoadRun {
  const requests = runs.reduce((a, r) => a + r.requests, 0);
  const seconds = runs.reduce((a, r) => a + r.seconds, 0);
  const weighted = (f: (r: LoadRun) => number) => runs.reduce((a, r) => a + f(r) * r.requests, 0) / requests;
  const worst = (f: (r: LoadRun) => number) => Math.max(...runs.map(f));
  return {
    requests,
    seconds,
    rps: requests / seconds,
    p50: weighted((r) => r.p50),
    p99: worst((r) => r.p99),
    errors: runs.reduce((a, r) => a + r.errors, 0),
    proxyCpuUs: weighted((r) => r.proxyCpuUs),
    proxyMainCpuUs: weighted((r) => r.proxyMainCpuUs),
    agentCpuUs: weighted((r) => r.agentCpuUs),
    load: weighted((r) => r.load),
  };
}

async function throughput(stack: GatewayStack) {
  const apiKey = stack.apiKeys["alice"] as string;
  const first = await fetch(`${stack.gateway.url}${INVOCATIONS}/warmup`, {
    headers: { authorization: `Bearer ${apiKey}` },
  });
  const session = first.headers.get("x-agentland-session") as string;
  await first.text();
  const agent = stack.agents[0];
  if (agent === undefined) throw new Error("no echo agent");
  const agentPid = agent.child.proc.pid;
  const proxy = await startFetchProxy(agent.url);
  const path = `${INVOCATIONS}/v1/ping?x=1`;
  const gatewayHeaders = { authorization: `Bearer ${apiKey}`, "x-agentland-session": session };
  try {
    // Unmeasured: each subject's code is compiled by the JIT on its first seconds under load, on threads
    // whose CPU time would otherwise count against the requests of the first round.
    await wrk(`${proxy.url}${path}`, {}, WARMUP_SECONDS);
    await wrk(`${stack.gateway.url}${path}`, gatewayHeaders, WARMUP_SECONDS);
    const direct = await loadRun(`${agent.url}/v1/ping?x=1`, {}, { agent: agentPid });
    // The agent's own cost grows with what it is sent (it echoes every header): the same call straight
    // to it, with the header set the gateway sends, separates that from the gateway's cost.
    const directLikeGateway = await loadRun(
      `${agent.url}/v1/ping?x=1`,
      await headersAgentSees(`${stack.gateway.url}${path}`, gatewayHeaders),
      { agent: agentPid },
    );
    const viaProxy: LoadRun[] = [];
    const viaGateway: LoadRun[] = [];
    // Alternating, so that load from elsewhere on the machine hits both alike.
    for (let round = 0; round < WRK_ROUNDS; round++) {
      viaProxy.push(
        await loadRun(`${proxy.url}${path}`, {}, { proxy: proxy.child.proc.pid, agent: agentPid }),
      );
      viaGateway.push(
        await loadRun(`${stack.gateway.url}${path}`, gatewayHeaders, {
          proxy: stack.gateway.child.proc.pid,
          agent: agentPid,
        }),
      );
    }
    return {
      direct,
      directLikeGateway,
      proxy: combine(viaProxy),
      gateway: combine(viaGateway),
      rounds: { viaProxy, viaGateway },
    };
  } finally {
    await proxy.child.stop();
  }
}

/** The request headers the echo agent receives through the gateway (its token stays valid for the run). */
async function headersAgentSees(
  url: string,
  headers: Record<string, string>,
): Promise<Record<string, string>> {
  const echoed = (await (await fetch(url, { headers })).json()) as { headers: Record<string, string> };
  const { host: _host, ...rest } = echoed.headers;
  return rest;
}

function printLatency(latency: Awaited<ReturnType<typeof runLatency>>, load: number): void {
  const { gateway, proxy, direct } = latency;
  const row = (name: string, p: Percentiles) => `| ${name} | ${p.p50.toFixed(3)} | ${p.p99.toFixed(3)} |`;
  console.log(
    `\n| in-context print(1+1), c=1 (load ${load.toFixed(1)}) | p50 ms | p99 ms |\n|---|---:|---:|`,
  );
  console.log(row("straight to korokd (pre-minted token)", direct));
  console.log(row("through a bare Bun fetch proxy", proxy));
  console.log(row("through the gateway", gateway));
  console.log(
    `| added by the bare proxy | ${(proxy.p50 - direct.p50).toFixed(3)} | ${(proxy.p99 - direct.p99).toFixed(3)} |`,
  );
  console.log(
    `| added by the gateway (goal p50 ≤ 0.3) | ${(gateway.p50 - direct.p50).toFixed(3)} | ${(gateway.p99 - direct.p99).toFixed(3)} |`,
  );
}

function printThroughput(t: Awaited<ReturnType<typeof throughput>>): void {
  console.log(
    `\n| small invocations, c=${WRK_CONNECTIONS} | req/s | p50 ms | p99 ms | errors | proxy CPU µs/req | of it main thread | agent CPU µs/req | load |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|`,
  );
  const row = (name: string, r: LoadRun, proxied: boolean) =>
    console.log(
      `| ${name} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(3)} | ${r.p99.toFixed(3)} | ${r.errors} | ${proxied ? r.proxyCpuUs.toFixed(0) : "-"} | ${proxied ? r.proxyMainCpuUs.toFixed(0) : "-"} | ${r.agentCpuUs.toFixed(0)} | ${r.load.toFixed(1)} |`,
    );
  row("straight to the echo agent", t.direct, false);
  row("straight to the echo agent, with the gateway's request headers", t.directLikeGateway, false);
  t.rounds.viaProxy.forEach((r, i) => {
    row(`bare Bun fetch proxy, round ${i + 1}`, r, true);
    row(`gateway, round ${i + 1}`, t.rounds.viaGateway[i] as LoadRun, true);
  });
  row("bare Bun fetch proxy, all rounds", t.proxy, true);
  row("gateway, all rounds (goal ≥ 8000 req/s)", t.gateway, true);
  console.log(
    `\ngateway vs bare fetch proxy: ${(t.gateway.rps / t.proxy.rps).toFixed(2)}× the req/s at ` +
      `${(t.gateway.proxyCpuUs / t.proxy.proxyCpuUs).toFixed(2)}× the CPU per request ` +
      `(${t.gateway.proxyCpuUs.toFixed(0)} vs ${t.proxy.proxyCpuUs.toFixed(0)} µs); ` +
      `gateway vs direct: ${(t.gateway.rps / t.direct.rps).toFixed(2)}× the req/s`,
  );
}

async function main() {
  const stack = await startGatewayStack({ korokds: 1, agents: 1 });
  try {
    const latency = await runLatency(stack);
    const latencyLoad = loadAverage();
    const tput = await throughput(stack);
    const rssMiB = stack.gateway.rss() / (1024 * 1024);
    printLatency(latency, latencyLoad);
    printThroughput(tput);
    console.log(
      `gateway RSS after load: ${rssMiB.toFixed(1)} MiB; 1-min load average now: ${loadAverage()}\n`,
    );
    const { gateway, proxy, direct } = latency;
    metric("run_direct_p50", direct.p50, "ms");
    metric("run_direct_p99", direct.p99, "ms");
    metric("run_fetch_proxy_p50", proxy.p50, "ms");
    metric("run_gateway_p50", gateway.p50, "ms");
    metric("run_gateway_p99", gateway.p99, "ms");
    metric("run_added_p50", gateway.p50 - direct.p50, "ms");
    metric("run_added_p99", gateway.p99 - direct.p99, "ms");
    metric("run_fetch_proxy_added_p50", proxy.p50 - direct.p50, "ms");
    metric("run_load_average", latencyLoad, "load");
    metric("invoke_direct_rps", tput.direct.rps, "req/s");
    metric("invoke_direct_agent_cpu_per_request", tput.direct.agentCpuUs, "us");
    metric("invoke_direct_gateway_headers_agent_cpu_per_request", tput.directLikeGateway.agentCpuUs, "us");
    metric("invoke_gateway_agent_cpu_per_request", tput.gateway.agentCpuUs, "us");
    metric("invoke_fetch_proxy_rps", tput.proxy.rps, "req/s");
    metric("invoke_gateway_rps", tput.gateway.rps, "req/s");
    metric("invoke_gateway_p50", tput.gateway.p50, "ms");
    metric("invoke_gateway_p99", tput.gateway.p99, "ms");
    metric("invoke_gateway_ratio", tput.gateway.rps / tput.direct.rps, "ratio");
    metric("invoke_gateway_rps_vs_fetch_proxy", tput.gateway.rps / tput.proxy.rps, "ratio");
    metric("invoke_gateway_errors", tput.gateway.errors, "count");
    metric("invoke_gateway_cpu_per_request", tput.gateway.proxyCpuUs, "us");
    metric("invoke_gateway_main_thread_cpu_per_request", tput.gateway.proxyMainCpuUs, "us");
    metric("invoke_fetch_proxy_cpu_per_request", tput.proxy.proxyCpuUs, "us");
    metric("invoke_gateway_cpu_vs_fetch_proxy", tput.gateway.proxyCpuUs / tput.proxy.proxyCpuUs, "ratio");
    metric("invoke_load_average", tput.gateway.load, "load");
    metric("gateway_rss_after_load", rssMiB, "MiB");
    for (const m of metrics) console.log(JSON.stringify({ bench: "gateway", ...m }));
    if (tput.gateway.errors + tput.direct.errors + tput.directLikeGateway.errors + tput.proxy.errors > 0) {
      throw new Error("requests failed under load");
    }
  } finally {
    await stack.stop();
  }
}

if (process.argv[2] === "--serve-fetch-proxy") serveFetchProxy(process.argv[3] as string);
else await main();
