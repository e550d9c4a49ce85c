/**
 * `bun run bench agentcore`: CreateCodeInterpreter against a warm pool (real agentcore with its controllers,
 * real korokd pods on the host-process node), and the unary RPC overhead of AgentCore's gRPC path against a
 * raw HTTP POST to a bare Bun server, side by side in the same run.
 */
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import {
  apply,
  controllerNamespace,
  KOROKD_IMAGE,
  kubectl,
  pool,
} from "../../src/agentcore/controllers/testing/controller-fixture";
import { startTestAgentcore } from "../../src/agentcore/testing/agentcore-fixture";
import { AgentCoreService } from "../../src/gen/agentland/agentcore/v1/agentcore_pb";

const POOL = 8;
const CREATES = 24;
const RPC_CALLS = 1_000;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};
const metric = (name: string, value: number, unit = "ms") =>
  console.log(JSON.stringify({ bench: "agentcore", metric: name, value: Number(value.toFixed(3)), unit }));

async function available(ns: string): Promise<number> {
  const out = await kubectl([
    "-n",
    ns,
    "get",
    "sandboxpool",
    "code-interpreter",
    "-o",
    "jsonpath={.status.availableReplicas}",
  ]);
  return Number(out.trim() || "0");
}

async function waitAvailable(ns: string, n: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await available(ns)) < n) {
    if (Date.now() > deadline) throw new Error(`pool did not reach ${n} available sandboxes`);
    await Bun.sleep(100);
  }
}

const ns = await controllerNamespace("bench-agentcore");
await apply(pool(ns, "code-interpreter", POOL, { image: KOROKD_IMAGE, port: 1883 }));
const agentcore = await startTestAgentcore(
  ns,
  ["--create-timeout=30s", "--code-interpreter-pool=code-interpreter"],
  {
    controllers: true,
  },
);
const rpc = createClient(AgentCoreService, createGrpcTransport({ baseUrl: agentcore.url }));
const bare = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch: async (req) => Response.json({ ok: (await req.text()).length }),
});
try {
  await waitAvailable(ns, POOL, 120_000);
  const create: number[] = [];
  let warm = 0;
  for (let i = 0; i < CREATES; i++) {
    await waitAvailable(ns, 1, 60_000); // measure the warm path: a free sandbox is there
    const t0 = performance.now();
    const { session } = await rpc.createCodeInterpreter({ principal: "bench", options: { namespace: ns } });
    create.push(performance.now() - t0);
    if (session?.warm) warm++;
    await rpc.deleteSession({ principal: "bench", id: session?.id ?? "", namespace: ns });
  }
  const grpc: number[] = [];
  const raw: number[] = [];
  for (let i = 0; i < RPC_CALLS; i++) {
    let t = performance.now();
    await rpc.listSessions({ principal: "nobody" });
    grpc.push(performance.now() - t);
    t = performance.now();
    await (await fetch(bare.url, { method: "POST", body: '{"principal":"nobody"}' })).json();
    raw.push(performance.now() - t);
  }
  console.log(
    `\nagentcore benchmark (${CREATES} warm creates against a pool of ${POOL}; ${RPC_CALLS} unary calls each)`,
  );
  console.log("| measurement | p50 ms | p99 ms |\n|---|---:|---:|");
  console.log(
    `| CreateCodeInterpreter, warm pool | ${pct(create, 50).toFixed(2)} | ${pct(create, 99).toFixed(2)} |`,
  );
  console.log(
    `| unary RPC (ListSessions over gRPC/HTTP2) | ${pct(grpc, 50).toFixed(3)} | ${pct(grpc, 99).toFixed(3)} |`,
  );
  console.log(
    `| raw HTTP POST to a bare Bun server | ${pct(raw, 50).toFixed(3)} | ${pct(raw, 99).toFixed(3)} |`,
  );
  console.log(
    `warm hits ${warm}/${CREATES}; RPC overhead ratio p50 ${(pct(grpc, 50) / pct(raw, 50)).toFixed(2)}x\n`,
  );
  metric("create_warm_p50", pct(create, 50));
  metric("create_warm_p99", pct(create, 99));
  metric("warm_hit_ratio", warm / CREATES, "ratio");
  metric("rpc_unary_p50", pct(grpc, 50));
  metric("raw_http_p50", pct(raw, 50));
  metric("rpc_overhead_ratio_p50", pct(grpc, 50) / pct(raw, 50), "ratio");
} finally {
  bare.stop(true);
  await agentcore.stop(2_000);
  await kubectl(["delete", "namespace", ns, "--wait=false"]);
}
process.exit(0);
