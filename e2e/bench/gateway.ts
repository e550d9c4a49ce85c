/**
 * `bun run bench gateway`: the gateway's overhead over calling the sandbox directly, side by side in one
 * run, on the real stack (gateway process, AgentCore, korokd and echo-agent processes, local apiserver):
 *   - latency at c=1 of an in-context `print(1+1)` run in an existing session: through the gateway
 *     (authentication, session lookup, a fresh token, proxy) vs. straight to korokd with pre-minted
 *     tokens; the two alternate call by call so drift hits both alike (goal: ≤ 0.3 ms p50 added);
 *   - throughput of small agent invocations at c=32 (wrk, Debian package `wrk`) through the gateway vs.
 *     straight to the echo agent (goal: ≥ 8,000 req/s through the gateway);
 *   - the gateway's RSS after the load.
 * Bounded: ~3,000 sequential runs and two 8 s wrk runs.
 */
import { readFileSync } from "node:fs";
import { CODE_INTERPRETERS } from "../../src/api/resource-types";
import { type GatewayStack, startGatewayStack } from "../../src/gateway/testing/gateway-stack";
import { createSigningKeyStore } from "../../src/gateway/tokens/signing-key-store";
import { createTokenMinter } from "../../src/gateway/tokens/token-minter";
import { systemClock } from "../../src/kube/clock";
import { silentLogger } from "../../src/log/logger";

const RUNS = 1500;
const WARMUP = 300;
const WRK_SECONDS = 8;
const WRK_CONNECTIONS = 32;

const metrics: { metric: string; value: number; unit: string }[] = [];
const metric = (name: string, value: number, unit: string) => metrics.push({ metric: name, value, unit });

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

interface RunTarget {
  readonly url: string;
  readonly headers: () => Promise<Record<string, string>>;
}

async function runOnce(target: RunTarget, body: string): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(target.url, { method: "POST", headers: await target.headers(), body });
  const out = (await res.json()) as { stdout?: string };
  const elapsed = performance.now() - t0;
  if (out.stdout !== "2\n") throw new Error(`run answered ${res.status} ${JSON.stringify(out)}`);
  return elapsed;
}

/** In-context `print(1+1)`: gateway and direct alternate, each sample timed on its own. */
async function runLatency(stack: GatewayStack) {
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
  // Tokens for the direct path come from the gateway's own key set, minted before the timed loop.
  const keys = createSigningKeyStore({
    kube: stack.kube,
    namespace: stack.home,
    secretName: "agentland-gateway-signing-keys",
    jwksConfigMap: "agentland-sandbox-jwks",
    sandboxNamespaces: [],
    policy: {
      rotationIntervalMs: 86_400_000,
      propagationDelayMs: 15_000,
      tokenLifetimeMs: 60_000,
      clockSkewMs: 5_000,
    },
    clock: systemClock,
    log: silentLogger,
    syncIntervalMs: 3_600_000,
  });
  await keys.sync();
  const minter = createTokenMinter({
    keys,
    issuer: "agentland-gateway",
    lifetimeMs: 60_000,
    clock: systemClock,
  });
  const tokens = Array.from({ length: RUNS + WARMUP }, () =>
    minter.mint({ audience: pod.identity, sessionId: session }),
  );
  keys.stop();
  let next = 0;
  const direct: RunTarget = {
    url: `${pod.url}/api/execute`,
    headers: async () => ({ authorization: `Bearer ${tokens[next++]}`, "content-type": "application/json" }),
  };
  const gateway: RunTarget = {
    url: `${stack.gateway.url}/api/code-runner/run`,
    headers: async () => ({ ...auth, "x-agentland-session": session }),
  };
  const body = JSON.stringify({ language: "python", code: "print(1+1)", context_id: contextId });
  const viaGateway: number[] = [];
  const viaDirect: number[] = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const g = await runOnce(gateway, body);
    const d = await runOnce(direct, body);
    if (i >= WARMUP) {
      viaGateway.push(g);
      viaDirect.push(d);
    }
  }
  viaGateway.sort((a, b) => a - b);
  viaDirect.sort((a, b) => a - b);
  return {
    gateway: { p50: percentile(viaGateway, 50), p99: percentile(viaGateway, 99) },
    direct: { p50: percentile(viaDirect, 50), p99: percentile(viaDirect, 99) },
  };
}

async function podOf(stack: GatewayStack, session: string) {
  const obj = await stack.kube.resource(CODE_INTERPRETERS).get(session, { namespace: stack.ns });
  const pod = stack.korokds.find((p) => p.name === obj.status?.podName);
  if (pod === undefined) throw new Error(`session ${session} is on no known korokd pod`);
  return pod;
}

interface WrkResult {
  readonly requests: number;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
}

async function wrk(url: string, headers: Record<string, string>): Promise<WrkResult> {
  const args = ["wrk", "-t2", `-c${WRK_CONNECTIONS}`, `-d${WRK_SECONDS}s`, "--latency"];
  for (const [k, v] of Object.entries(headers)) args.push("-H", `${k}: ${v}`);
  const proc = Bun.spawn([...args, url], { stdout: "pipe", stderr: "inherit" });
  const out = await new Response(proc.stdout).text();
  if ((await proc.exited) !== 0) throw new Error(`wrk failed:\n${out}`);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const latency = (p: string) => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s)`, "m").exec(out);
    if (m === null) return Number.NaN;
    return Number(m[1]) * ({ us: 0.001, ms: 1, s: 1000 } as Record<string, number>)[m[2] as string]!;
  };
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = non2xx + (socket ? socket.slice(1).reduce((a, b) => a + Number(b), 0) : 0);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1]);
  return { requests, rps, p50: latency("50"), p99: latency("99"), errors };
}

/** User + system CPU time of a process so far, in ms (from /proc; clock ticks are 10 ms here). */
function cpuMs(pid: number): number {
  const fields = (readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1] ?? "").split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function throughput(stack: GatewayStack) {
  const apiKey = stack.apiKeys["alice"] as string;
  const first = await fetch(`${stack.gateway.url}/api/agent-sessions/invocations/warmup`, {
    headers: { authorization: `Bearer ${apiKey}` },
  });
  const session = first.headers.get("x-agentland-session") as string;
  await first.text();
  const agent = stack.agents[0];
  if (agent === undefined) throw new Error("no echo agent");
  const direct = await wrk(`${agent.url}/v1/ping?x=1`, {});
  const pid = stack.gateway.child.proc.pid;
  const before = cpuMs(pid);
  const gateway = await wrk(`${stack.gateway.url}/api/agent-sessions/invocations/v1/ping?x=1`, {
    authorization: `Bearer ${apiKey}`,
    "x-agentland-session": session,
  });
  const cpuPerRequestUs = ((cpuMs(pid) - before) * 1000) / gateway.requests;
  return { direct, gateway, cpuPerRequestUs };
}

/** The machine's 1-minute load average: these numbers are only comparable at similar load. */
function loadAverage(): string {
  return readFileSync("/proc/loadavg", "utf8").split(" ")[0] ?? "?";
}

async function main() {
  const stack = await startGatewayStack({ korokds: 1, agents: 1 });
  try {
    const latency = await runLatency(stack);
    const tput = await throughput(stack);
    const rssMiB = stack.gateway.rss() / (1024 * 1024);
    const added50 = latency.gateway.p50 - latency.direct.p50;
    const added99 = latency.gateway.p99 - latency.direct.p99;
    console.log("\n| in-context print(1+1), c=1 | p50 ms | p99 ms |\n|---|---:|---:|");
    console.log(
      `| straight to korokd (pre-minted token) | ${latency.direct.p50.toFixed(3)} | ${latency.direct.p99.toFixed(3)} |`,
    );
    console.log(
      `| through the gateway | ${latency.gateway.p50.toFixed(3)} | ${latency.gateway.p99.toFixed(3)} |`,
    );
    console.log(`| added by the gateway (goal p50 ≤ 0.3) | ${added50.toFixed(3)} | ${added99.toFixed(3)} |`);
    console.log(
      `\n| small invocations, c=${WRK_CONNECTIONS}, ${WRK_SECONDS}s | req/s | p50 ms | p99 ms | errors |\n|---|---:|---:|---:|---:|`,
    );
    for (const [name, r] of [
      ["straight to the echo agent", tput.direct],
      ["through the gateway (goal ≥ 8000 req/s)", tput.gateway],
    ] as const) {
      console.log(
        `| ${name} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(3)} | ${r.p99.toFixed(3)} | ${r.errors} |`,
      );
    }
    console.log(
      `\ngateway/direct throughput ratio: ${(tput.gateway.rps / tput.direct.rps).toFixed(2)}; ` +
        `gateway CPU per invocation: ${tput.cpuPerRequestUs.toFixed(0)} µs; ` +
        `gateway RSS after load: ${rssMiB.toFixed(1)} MiB; 1-min load average: ${loadAverage()}\n`,
    );
    metric("run_direct_p50", latency.direct.p50, "ms");
    metric("run_direct_p99", latency.direct.p99, "ms");
    metric("run_gateway_p50", latency.gateway.p50, "ms");
    metric("run_gateway_p99", latency.gateway.p99, "ms");
    metric("run_added_p50", added50, "ms");
    metric("run_added_p99", added99, "ms");
    metric("invoke_direct_rps", tput.direct.rps, "req/s");
    metric("invoke_gateway_rps", tput.gateway.rps, "req/s");
    metric("invoke_gateway_p50", tput.gateway.p50, "ms");
    metric("invoke_gateway_p99", tput.gateway.p99, "ms");
    metric("invoke_gateway_ratio", tput.gateway.rps / tput.direct.rps, "ratio");
    metric("invoke_gateway_errors", tput.gateway.errors, "count");
    metric("invoke_gateway_cpu_per_request", tput.cpuPerRequestUs, "us");
    metric("gateway_rss_after_load", rssMiB, "MiB");
    for (const m of metrics) console.log(JSON.stringify({ bench: "gateway", ...m }));
    if (tput.gateway.errors > 0 || tput.direct.errors > 0) throw new Error("requests failed under load");
  } finally {
    await stack.stop();
  }
}

await main();
