/**
 * `bun run bench agentcore`: CreateCodeInterpreter against a warm pool (real agentcore with its controllers,
 * real korokd pods on the host-process node), answered by the leader and by a standby replica, and the
 * unary RPC overhead of AgentCore's gRPC path against a raw HTTP POST to a bare Bun server, side by side
 * in the same run. The stage rows show where a leader create's time goes; a warm create is answered once
 * the sandbox is pre-adopted by the CodeInterpreter (its second write), before its claim holds it.
 *
 * Deployed as it runs: each replica is its own `agentland --mode=agentcore` process and the bench (the
 * client, like the gateway) a third. In one process, every watch event would be parsed and handled by both
 * replicas and the bench on one thread, and the client's answer would queue behind the leader's own work.
 */
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import {
  adminClient,
  apply,
  controllerNamespace,
  KOROKD_IMAGE,
  kubectl,
  pool,
} from "../../src/agentcore/controllers/testing/controller-fixture";
import { watcher } from "../../src/agentcore/controllers/testing/event-waiter";
import { replicaFlags } from "../../src/agentcore/testing/agentcore-fixture";
import { CODE_INTERPRETERS, SANDBOX_CLAIMS, SANDBOX_POOLS, SANDBOXES } from "../../src/api/resource-types";
import { AgentCoreService } from "../../src/gen/agentland/agentcore/v1/agentcore_pb";
import type { KubeObject } from "../../src/kube/kube-object";
import type { ResourceClient } from "../../src/kube/resource-client";
import { CONFIG_MAPS, LEASES } from "../../src/kube/resources";

const POOL = 8;
const CREATES = 24;
/** Creates answered by a standby replica (the request reaches the leader only through the watch). */
const FOLLOWER_CREATES = 12;
const RPC_CALLS = 1_000;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};
const metric = (name: string, value: number, unit = "ms") =>
  console.log(JSON.stringify({ bench: "agentcore", metric: name, value: Number(value.toFixed(3)), unit }));

const MAIN = join(import.meta.dir, "../../src/main.ts");

const client = adminClient();
const pools = client.resource(SANDBOX_POOLS);
const configMaps = client.resource(CONFIG_MAPS);

/** One GET (not a kubectl process per poll: that would load the machine under measurement). */
async function available(ns: string): Promise<number> {
  return (await pools.get("code-interpreter", { namespace: ns })).status?.availableReplicas ?? 0;
}

/**
 * When each stage of a create was first seen on this process's own watches (keyed by session id), so the
 * table can say where the time goes: CI created → claim created → warm sandbox adopted → CI status Ready.
 */
async function stageClock<T extends KubeObject>(
  api: ResourceClient<T>,
  namespace: string,
  stage: (o: T) => { readonly id: string; readonly stage: string } | undefined,
) {
  const seen = new Map<string, number>();
  const { resourceVersion } = await api.list({ namespace, limit: 1 });
  const stream = await api.watch({
    namespace,
    resourceVersion,
    allowWatchBookmarks: true,
    timeoutSeconds: 900,
  });
  const done = (async () => {
    try {
      for await (const e of stream) {
        if (e.type === "BOOKMARK") continue;
        const s = stage(e.object);
        const key = s && `${s.id}|${s.stage}`;
        if (key && !seen.has(key)) seen.set(key, performance.now());
      }
    } catch {
      // closed
    }
  })();
  return {
    at: (id: string, name: string) => seen.get(`${id}|${name}`),
    async close() {
      stream.close();
      await done;
    },
  };
}

function freePort(): number {
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = server.port ?? 0;
  server.stop(true);
  return port;
}

interface Replica {
  readonly name: string;
  readonly url: string;
  stop(): Promise<void>;
}

/** One agentcore replica in its own process, as deployed; resolves once it serves /healthz. */
async function startReplica(name: string, ns: string): Promise<Replica> {
  const port = freePort();
  const httpPort = freePort();
  const proc = Bun.spawn(
    [
      "bun",
      MAIN,
      "--mode=agentcore",
      ...replicaFlags(ns),
      `--listen-port=${port}`,
      `--http-port=${httpPort}`,
      `--pod-name=${name}`,
      "--create-timeout=30s",
      "--code-interpreter-pool=code-interpreter",
      "--log-level=error",
    ],
    { stdout: "ignore", stderr: "inherit" },
  );
  // However the bench ends, its replicas do not outlive it.
  process.once("exit", () => proc.kill("SIGKILL"));
  const replica: Replica = {
    name,
    url: `http://127.0.0.1:${port}`,
    async stop() {
      proc.kill("SIGTERM");
      const killed = setTimeout(() => proc.kill("SIGKILL"), 5_000);
      await proc.exited;
      clearTimeout(killed);
    },
  };
  for (const deadline = Date.now() + 30_000; ; await Bun.sleep(100)) {
    const healthz = fetch(`http://127.0.0.1:${httpPort}/healthz`, { signal: AbortSignal.timeout(1_000) });
    const ok = await healthz.then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return replica;
    if (proc.exitCode !== null || Date.now() > deadline) {
      await replica.stop();
      throw new Error(`agentcore replica ${name} did not become healthy`);
    }
  }
}

/** Whether `name` holds agentcore's Lease in `ns`. */
async function leads(name: string, ns: string): Promise<boolean> {
  const lease = await client
    .resource(LEASES)
    .get("agentland-agentcore", { namespace: ns })
    .catch(() => undefined);
  return lease?.spec?.holderIdentity?.startsWith(`${name}_`) ?? false;
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
const replicas: Replica[] = [];
const bare = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch: async (req) => Response.json({ ok: (await req.text()).length }),
});
try {
  const agentcore = await startReplica("bench-leader", ns);
  replicas.push(agentcore);
  const rpc = createClient(AgentCoreService, createGrpcTransport({ baseUrl: agentcore.url }));
  for (const deadline = Date.now() + 30_000; !(await leads(agentcore.name, ns)); await Bun.sleep(100)) {
    if (Date.now() > deadline) throw new Error("agentcore did not take the lease");
  }
  const standby = await startReplica("bench-standby", ns);
  replicas.push(standby);
  const followerRpc = createClient(AgentCoreService, createGrpcTransport({ baseUrl: standby.url }));
  await waitAvailable(ns, POOL, 120_000);
  const create: number[] = [];
  const followerCreate: number[] = [];
  const floor: number[] = [];
  const cmWatch = await watcher(configMaps, ns);
  const stageNames = [
    "ci created",
    "claim created",
    "sandbox pre-adopted by the CI",
    "sandbox adopted by the claim",
    "ci status Ready",
  ] as const;
  const clocks = [
    await stageClock(client.resource(CODE_INTERPRETERS), ns, (o) => ({
      id: o.metadata?.name ?? "",
      stage: o.status?.phase === "Ready" ? "ci status Ready" : "ci created",
    })),
    await stageClock(client.resource(SANDBOX_CLAIMS), ns, (o) => ({
      id: o.metadata?.name ?? "",
      stage: "claim created",
    })),
    await stageClock(client.resource(SANDBOXES), ns, (o) => {
      if (o.spec?.claimRef) return { id: o.spec.claimRef.name, stage: "sandbox adopted by the claim" };
      const owner = o.metadata?.ownerReferences?.find((r) => r.controller);
      return owner?.kind === "CodeInterpreter"
        ? { id: owner.name, stage: "sandbox pre-adopted by the CI" }
        : undefined;
    }),
  ];
  const stageAt = (id: string, stage: string) =>
    clocks.map((c) => c.at(id, stage)).find((t) => t !== undefined);
  const stages = new Map<string, number[]>(stageNames.map((n) => [n, []]));
  const answered: Array<{ id: string; t0: number }> = [];
  const load = (await Bun.file("/proc/loadavg").text()).split(" ").slice(0, 3).join(" ");
  let warm = 0;
  for (let i = 0; i < CREATES + FOLLOWER_CREATES; i++) {
    // Every third create goes to the standby replica, the others to the leader.
    const viaFollower = i % 3 === 2;
    const via = viaFollower ? followerRpc : rpc;
    // Measure the warm path on its own: the pool is full again (the previous create's refill is done).
    await waitAvailable(ns, POOL, 60_000);
    await Bun.sleep(50);
    // The floor in the same quiet conditions as the create right after it (pool full, refill done): one
    // apiserver write and its watch event. Measured after a delete instead, it would include that churn.
    const name = `floor-${i}`;
    const t1 = performance.now();
    const seen = cmWatch.until(name, () => true);
    await configMaps.create({ metadata: { name, namespace: ns }, data: {} }, { namespace: ns });
    floor.push((await seen) - t1);
    const t0 = performance.now();
    const { session } = await via.createCodeInterpreter({ principal: "bench", options: { namespace: ns } });
    (viaFollower ? followerCreate : create).push(performance.now() - t0);
    if (session?.warm) warm++;
    if (!viaFollower) answered.push({ id: session?.id ?? "", t0 });
    await via.deleteSession({ principal: "bench", id: session?.id ?? "", namespace: ns });
  }
  await cmWatch.close();
  for (const { id, t0 } of answered) {
    for (const name of stageNames) {
      const at = stageAt(id, name);
      if (at !== undefined) stages.get(name)?.push(at - t0);
    }
  }
  for (const c of clocks) await c.close();
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
    `\nagentcore benchmark (${CREATES} + ${FOLLOWER_CREATES} warm creates against a pool of ${POOL}; ${RPC_CALLS} unary calls each)`,
  );
  console.log("| measurement | p50 ms | p99 ms |\n|---|---:|---:|");
  console.log(
    `| CreateCodeInterpreter, warm pool (leader replica) | ${pct(create, 50).toFixed(2)} | ${pct(create, 99).toFixed(2)} |`,
  );
  console.log(
    `| CreateCodeInterpreter, warm pool (standby replica) | ${pct(followerCreate, 50).toFixed(2)} | ${pct(followerCreate, 99).toFixed(2)} |`,
  );
  console.log(
    `| unary RPC (ListSessions over gRPC/HTTP2) | ${pct(grpc, 50).toFixed(3)} | ${pct(grpc, 99).toFixed(3)} |`,
  );
  console.log(
    `| raw HTTP POST to a bare Bun server | ${pct(raw, 50).toFixed(3)} | ${pct(raw, 99).toFixed(3)} |`,
  );
  for (const [name, xs] of stages) {
    if (xs.length === 0) continue;
    console.log(
      `| … leader creates, stage seen by the bench's watch: ${name} (${xs.length}/${CREATES}) | ${pct(xs, 50).toFixed(2)} | ${pct(xs, 99).toFixed(2)} |`,
    );
  }
  console.log(
    `| floor: ConfigMap create → its watch event | ${pct(floor, 50).toFixed(2)} | ${pct(floor, 99).toFixed(2)} |`,
  );
  console.log(`load average at the start of the creates: ${load}`);
  console.log(
    `warm hits ${warm}/${CREATES + FOLLOWER_CREATES}; RPC overhead ratio p50 ${(pct(grpc, 50) / pct(raw, 50)).toFixed(2)}x\n`,
  );
  metric("create_warm_p50", pct(create, 50));
  metric("create_warm_p99", pct(create, 99));
  metric("create_warm_standby_p50", pct(followerCreate, 50));
  metric("create_warm_standby_p99", pct(followerCreate, 99));
  metric("create_warm_floor_p50", pct(floor, 50));
  metric("create_warm_floor_ratio_p50", pct(create, 50) / pct(floor, 50), "ratio");
  metric("warm_hit_ratio", warm / (CREATES + FOLLOWER_CREATES), "ratio");
  metric("rpc_unary_p50", pct(grpc, 50));
  metric("raw_http_p50", pct(raw, 50));
  metric("rpc_overhead_ratio_p50", pct(grpc, 50) / pct(raw, 50), "ratio");
} finally {
  bare.stop(true);
  await Promise.all(replicas.map((r) => r.stop()));
  await kubectl(["delete", "namespace", ns, "--wait=false"]);
}
process.exit(0);
