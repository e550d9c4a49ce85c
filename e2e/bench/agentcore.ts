/**
 * `bun run bench agentcore`: CreateCodeInterpreter against a warm pool (real agentcore with its controllers,
 * real korokd pods on the host-process node), answered by the leader and by a standby replica over the
 * gateway's own transport (binary Connect over HTTP/2 to the HTTP port), the same create over the other
 * protocols and ports (Connect over HTTP/2 to the gRPC port, gRPC, Connect over HTTP/1.1), and the unary RPC
 * overhead of each against a raw HTTP POST to a bare Bun server, side by side in the same run. Two
 * deployments side by side, creates interleaved: reservations on (the RPC replica reserves the warm sandbox
 * alongside the session's POST and answers from both writes) and off (the baseline: the leader pre-adopts
 * the sandbox once it sees the session, two chained writes). The stage rows show where the leader's and the
 * standby's creates spend their time.
 *
 * Deployed as it runs: each replica is its own `agentland --mode=agentcore` process and the bench (the
 * client, like the gateway) a third. In one process, every watch event would be parsed and handled by both
 * replicas and the bench on one thread, and the client's answer would queue behind the leader's own work.
 */
import { join } from "node:path";
import { type Client, createClient, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createConnectTransport as createFetchConnectTransport } from "@connectrpc/connect-web";
import { RESERVATION } from "../../src/agentcore/controllers/reservation-annotation";
import {
  adminClient,
  apply,
  controllerNamespace,
  installCrds,
  KOROKD_IMAGE,
  kubectl,
  pool,
} from "../../src/agentcore/controllers/testing/controller-fixture";
import { watcher } from "../../src/agentcore/controllers/testing/event-waiter";
import { replicaFlags } from "../../src/agentcore/testing/agentcore-fixture";
import { CODE_INTERPRETERS, SANDBOX_CLAIMS, SANDBOX_POOLS, SANDBOXES } from "../../src/api/resource-types";
import { agentcoreTransport } from "../../src/gateway/agentcore/agentcore-client";
import { AgentCoreService, type Session } from "../../src/gen/agentland/agentcore/v1/agentcore_pb";
import { readLines } from "../../src/korokd/exec/zygote-process";
import { createInformer, type Informer } from "../../src/kube/informer";
import type { KubeObject } from "../../src/kube/kube-object";
import type { ResourceClient } from "../../src/kube/resource-client";
import { CONFIG_MAPS, LEASES, PODS } from "../../src/kube/resources";

const POOL = 8;
/** Per variant (reservations off and on, interleaved): creates answered by the leader replica. */
const CREATES = 30;
/** Per variant: creates answered by a standby replica (the request reaches the leader only through the watch). */
const FOLLOWER_CREATES = 15;
const RPC_CALLS = 1_000;

/**
 * The protocols a replica serves. Creates go over the gateway's own transport; every other leader round of
 * the reservations-on deployment also creates over the other two, so the rows compare them in one run.
 */
const PROTOCOLS = {
  connect_h2: "binary Connect over HTTP/2 to the HTTP port (the gateway's transport)",
  connect_h2_rpc_port: "binary Connect over HTTP/2 to the gRPC port (node:http2)",
  grpc: "gRPC over HTTP/2 (the gRPC port)",
  connect_h1: "binary Connect over HTTP/1.1 with fetch (the HTTP port)",
} as const;
type Protocol = keyof typeof PROTOCOLS;
const PROTOCOL_NAMES = Object.keys(PROTOCOLS) as Protocol[];
const OTHER_PROTOCOLS = PROTOCOL_NAMES.filter((p) => p !== "connect_h2");
type AgentCore = Client<typeof AgentCoreService>;
/** One `T` per protocol, in `PROTOCOLS` order. */
const perProtocol = <T>(make: (p: Protocol) => T) =>
  Object.fromEntries(PROTOCOL_NAMES.map((p) => [p, make(p)])) as Record<Protocol, T>;
/** At rest also means no pool, sandbox or pod of the run changed for this long. */
const QUIET_MS = 200;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};
const metric = (name: string, value: number, unit = "ms") =>
  console.log(JSON.stringify({ bench: "agentcore", metric: name, value: Number(value.toFixed(3)), unit }));

const MAIN = join(import.meta.dir, "../../src/main.ts");

const client = adminClient();
const configMaps = client.resource(CONFIG_MAPS);

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

interface Replica {
  readonly name: string;
  /** The gRPC port (`node:http2`) and the HTTP port (Connect and gRPC-Web over HTTP/2 and HTTP/1.1). */
  readonly url: string;
  readonly httpUrl: string;
  stop(): Promise<void>;
}

/**
 * One agentcore replica in its own process, as deployed; resolves once it serves /healthz. It binds ports
 * the kernel picks and names them in its "agentcore serving" log line: a port picked here and handed over
 * could be taken by another socket in between.
 */
async function startReplica(name: string, ns: string, reservations: "on" | "off"): Promise<Replica> {
  const proc = Bun.spawn(
    [
      "bun",
      MAIN,
      "--mode=agentcore",
      ...replicaFlags(ns),
      "--listen-port=0",
      "--http-port=0",
      `--pod-name=${name}`,
      "--create-timeout=30s",
      "--code-interpreter-pool=code-interpreter",
      `--warm-reservations=${reservations}`,
      "--log-level=info",
    ],
    { stdout: "pipe", stderr: "inherit" },
  );
  // However the bench ends, its replicas do not outlive it.
  process.once("exit", () => proc.kill("SIGKILL"));
  const stop = async () => {
    proc.kill("SIGTERM");
    const killed = setTimeout(() => proc.kill("SIGKILL"), 5_000);
    await proc.exited;
    clearTimeout(killed);
  };
  const urls = await servingUrls(proc.stdout as ReadableStream<Uint8Array>, 30_000).catch(async (err) => {
    await stop();
    throw new Error(`agentcore replica ${name} did not start serving`, { cause: err });
  });
  for (const deadline = Date.now() + 30_000; ; await Bun.sleep(100)) {
    const healthz = fetch(`${urls.http}/healthz`, { signal: AbortSignal.timeout(1_000) });
    const ok = await healthz.then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { name, url: urls.grpc, httpUrl: urls.http, stop };
    if (proc.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`agentcore replica ${name} did not become healthy`);
    }
  }
}

/** The URLs from a replica's "agentcore serving" line; the rest of its log is read and dropped. */
async function servingUrls(out: ReadableStream<Uint8Array>, timeoutMs: number) {
  const serving = Promise.withResolvers<{ grpc: string; http: string }>();
  const ended = readLines(out, (line) => {
    const entry = line.startsWith("{") ? JSON.parse(line) : undefined;
    if (entry?.msg === "agentcore serving")
      serving.resolve({ grpc: String(entry.grpc), http: String(entry.http) });
  });
  void ended.then(() => serving.reject(new Error("the replica's output ended before it served")));
  const timer = setTimeout(() => serving.reject(new Error("no serving line in time")), timeoutMs);
  try {
    return await serving.promise;
  } finally {
    clearTimeout(timer);
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

/**
 * What the run's namespaces hold, from watches: pools, sandboxes and pods. Waiting for rest reads memory,
 * so it puts no load on the apiserver right before the create it is there to keep quiet.
 */
async function startCensus() {
  const pools = createInformer(client.resource(SANDBOX_POOLS));
  const sandboxes = createInformer(client.resource(SANDBOXES));
  const pods = createInformer(client.resource(PODS));
  const informers = [pools, sandboxes, pods];
  /** When the watches last saw anything change (monotonic ms). */
  let lastChange = performance.now();
  const changed = () => {
    lastChange = performance.now();
  };
  for (const i of informers) {
    i.addHandlers({ onAdd: changed, onUpdate: changed, onDelete: changed });
    i.start();
  }
  await Promise.all(informers.map((i) => i.waitForSync(AbortSignal.timeout(30_000))));
  /** Sandboxes and pods of deleted sessions (`namespace/name`) that the watches must see go. */
  const leaving = new Set<string>();
  const inNs = (i: Informer<object>, ns: string) => i.byIndex("namespace", ns);
  const available = (ns: string) => pools.get(`${ns}/code-interpreter`)?.status?.availableReplicas ?? 0;
  /** `ns` is back at rest: its pool full and Ready, and no other sandbox or pod left (none going). */
  const atRest = (ns: string) =>
    available(ns) === POOL && inNs(sandboxes, ns).length === POOL && inNs(pods, ns).length === POOL;
  const left = () => [...leaving].every((key) => !sandboxes.get(key) && !pods.get(key));
  /** Checks memory, so polling it often costs the apiserver nothing. */
  async function until(done: () => boolean, timeoutMs: number, failure: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(failure);
      await Bun.sleep(10);
    }
  }
  return {
    /** Waits until the pool of `ns` has all its sandboxes Ready. */
    waitAvailable: (ns: string, timeoutMs: number) =>
      until(
        () => available(ns) >= POOL,
        timeoutMs,
        `pool in ${ns} did not reach ${POOL} available sandboxes`,
      ),
    /** Marks a deleted session's sandbox and pod: rest also waits for the watches to see them gone. */
    leaving(session: Session | undefined) {
      if (session?.sandboxName) leaving.add(`${session.namespace}/${session.sandboxName}`);
      if (session?.podName) leaving.add(`${session.namespace}/${session.podName}`);
    },
    /**
     * Waits until every namespace of the run is at rest and the deleted sessions' sandboxes and pods are
     * gone from the watches (so no delete is still on its way). Each create, and each floor write, starts on
     * a quiet cluster: the previous create's teardown and refill in either deployment (a deleted pod's
     * processes, a new sandbox's korokd starting) are over, so no measurement shares the cores with another
     * one's aftermath.
     */
    async waitAtRest(namespaces: readonly string[], timeoutMs: number) {
      const quiet = () => performance.now() - lastChange >= QUIET_MS;
      await until(
        () => left() && namespaces.every(atRest) && quiet(),
        timeoutMs,
        `namespaces ${namespaces.join(", ")} did not come to rest`,
      );
      leaving.clear();
    },
    stop: () => Promise.all(informers.map((i) => i.stop())),
  };
}
type Census = Awaited<ReturnType<typeof startCensus>>;

interface Variant {
  readonly label: string;
  readonly ns: string;
  readonly leader: Record<Protocol, AgentCore>;
  readonly standby: AgentCore;
  readonly clocks: Array<Awaited<ReturnType<typeof stageClock>>>;
  /** Leader creates by protocol; the gateway's (`connect_h2`) are the variant's headline rows. */
  readonly create: Record<Protocol, number[]>;
  readonly followerCreate: number[];
  /** Creates over the gateway's transport, by the replica that answered them, for the stage rows. */
  readonly answered: Record<"leader" | "standby", Array<{ id: string; t0: number }>>;
  warm: number;
}

const STAGES = [
  "ci created",
  "sandbox reserved for the CI",
  "sandbox pre-adopted by the CI",
  "claim created",
  "sandbox adopted by the claim",
  "ci status Ready",
] as const;

async function stageClocks(ns: string) {
  return [
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
      const reservedFor = o.metadata?.annotations?.[RESERVATION.reservedFor]?.split("/")[1];
      if (!owner && reservedFor) return { id: reservedFor, stage: "sandbox reserved for the CI" };
      return owner?.kind === "CodeInterpreter"
        ? { id: owner.name, stage: "sandbox pre-adopted by the CI" }
        : undefined;
    }),
  ];
}

const replicas: Replica[] = [];
/** Closes the gateway transports' HTTP/2 connections at the end. */
const closers: Array<() => void> = [];

function transport(protocol: Protocol, replica: Replica): Transport {
  if (protocol === "grpc") return createGrpcTransport({ baseUrl: replica.url });
  if (protocol === "connect_h1")
    return createFetchConnectTransport({ baseUrl: replica.httpUrl, useBinaryFormat: true });
  const gateways = agentcoreTransport(protocol === "connect_h2" ? replica.httpUrl : replica.url);
  closers.push(gateways.close);
  return gateways.transport;
}

const namespaces: string[] = [];

/** Its own namespace, pool, leader and standby replica. */
async function deploy(label: string, reservations: "on" | "off", census: Census): Promise<Variant> {
  const ns = await controllerNamespace(`bench-agentcore-${reservations}`);
  namespaces.push(ns);
  await apply(pool(ns, "code-interpreter", POOL, { image: KOROKD_IMAGE, port: 1883 }));
  const leader = await startReplica(`bench-leader-${reservations}`, ns, reservations);
  replicas.push(leader);
  for (const deadline = Date.now() + 30_000; !(await leads(leader.name, ns)); await Bun.sleep(100)) {
    if (Date.now() > deadline) throw new Error("agentcore did not take the lease");
  }
  const standby = await startReplica(`bench-standby-${reservations}`, ns, reservations);
  replicas.push(standby);
  await census.waitAvailable(ns, 120_000);
  return {
    label,
    ns,
    leader: perProtocol((p) => createClient(AgentCoreService, transport(p, leader))),
    standby: createClient(AgentCoreService, transport("connect_h2", standby)),
    clocks: await stageClocks(ns),
    create: perProtocol(() => []),
    followerCreate: [],
    answered: { leader: [], standby: [] },
    warm: 0,
  };
}

/** One create by the standby replica, or by the leader over `protocol`. */
async function createOnce(v: Variant, via: "standby" | Protocol, census: Census): Promise<void> {
  const rpc = via === "standby" ? v.standby : v.leader[via];
  // Measure the warm path on its own: both deployments at rest (every earlier create's refill and teardown done).
  await census.waitAtRest(namespaces, 60_000);
  const t0 = performance.now();
  const { session } = await rpc.createCodeInterpreter({ principal: "bench", options: { namespace: v.ns } });
  (via === "standby" ? v.followerCreate : v.create[via]).push(performance.now() - t0);
  if (session?.warm) v.warm++;
  // The stage rows follow the gateway's transport: the leader's creates over it, and the standby's.
  const by = via === "standby" ? "standby" : via === "connect_h2" ? "leader" : undefined;
  if (by) v.answered[by].push({ id: session?.id ?? "", t0 });
  await rpc.deleteSession({ principal: "bench", id: session?.id ?? "", namespace: v.ns });
  census.leaving(session);
}

function printStages(v: Variant, by: "leader" | "standby"): void {
  const stageAt = (id: string, stage: string) =>
    v.clocks.map((c) => c.at(id, stage)).find((t) => t !== undefined);
  const answered = v.answered[by];
  for (const name of STAGES) {
    const xs = answered.flatMap(({ id, t0 }) => {
      const at = stageAt(id, name);
      return at === undefined ? [] : [at - t0];
    });
    if (xs.length === 0) continue;
    console.log(
      `| … ${v.label}, ${by} creates, seen by the bench's watch: ${name} (${xs.length}/${answered.length}) | ${pct(xs, 50).toFixed(2)} | ${pct(xs, 99).toFixed(2)} |`,
    );
  }
}

const row = (what: string, xs: number[], digits = 2) =>
  console.log(`| ${what} | ${pct(xs, 50).toFixed(digits)} | ${pct(xs, 99).toFixed(digits)} |`);

const bare = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch: async (req) => Response.json({ ok: (await req.text()).length }),
});
try {
  await installCrds(); // the census watches the run's custom resources
  const census = await startCensus();
  const baseline = await deploy("reservations off (chained writes)", "off", census);
  const reserved = await deploy("reservations on", "on", census);
  const variants = [baseline, reserved];
  const floor: number[] = [];
  const floorNs = reserved.ns;
  const cmWatch = await watcher(configMaps, floorNs);
  const load = (await Bun.file("/proc/loadavg").text()).split(" ").slice(0, 3).join(" ");
  for (let i = 0; i < CREATES + FOLLOWER_CREATES; i++) {
    // Every third create goes to the standby replica, the others to the leader; variants alternate first.
    const viaFollower = i % 3 === 2;
    await census.waitAtRest(namespaces, 60_000);
    // The floor in the same quiet conditions as the creates right after it (pools full, refills done): one
    // apiserver write and its watch event. Measured after a delete instead, it would include that churn.
    const name = `floor-${i}`;
    const t1 = performance.now();
    const seen = cmWatch.until(name, () => true);
    await configMaps.create({ metadata: { name, namespace: floorNs }, data: {} }, { namespace: floorNs });
    floor.push((await seen) - t1);
    for (const v of i % 2 === 0 ? variants : [...variants].reverse())
      await createOnce(v, viaFollower ? "standby" : "connect_h2", census);
    if (!viaFollower && i % 2 === 0) for (const p of OTHER_PROTOCOLS) await createOnce(reserved, p, census);
  }
  await cmWatch.close();
  await census.stop();
  const unary = perProtocol((): number[] => []);
  const raw: number[] = [];
  for (let i = 0; i < RPC_CALLS; i++) {
    for (const p of PROTOCOL_NAMES) {
      const t = performance.now();
      await reserved.leader[p].listSessions({ principal: "nobody" });
      unary[p].push(performance.now() - t);
    }
    const t = performance.now();
    await (await fetch(bare.url, { method: "POST", body: '{"principal":"nobody"}' })).json();
    raw.push(performance.now() - t);
  }
  const extra = reserved.create.grpc.length;
  console.log(
    `\nagentcore benchmark (per variant ${CREATES} + ${FOLLOWER_CREATES} warm creates over the gateway's transport against a pool of ${POOL}, interleaved, and ${extra} more over each other protocol; ${RPC_CALLS} unary calls each)`,
  );
  console.log("| measurement | p50 ms | p99 ms |\n|---|---:|---:|");
  for (const v of variants) {
    row(`CreateCodeInterpreter, warm pool, ${v.label} (leader replica)`, v.create.connect_h2);
    row(`CreateCodeInterpreter, warm pool, ${v.label} (standby replica)`, v.followerCreate);
  }
  for (const p of OTHER_PROTOCOLS)
    row(`… ${reserved.label}, leader replica, over ${PROTOCOLS[p]}`, reserved.create[p]);
  for (const p of PROTOCOL_NAMES) row(`unary RPC (ListSessions) over ${PROTOCOLS[p]}`, unary[p], 3);
  row("raw HTTP POST to a bare Bun server", raw, 3);
  for (const v of variants) for (const by of ["leader", "standby"] as const) printStages(v, by);
  row("floor: ConfigMap create → its watch event", floor);
  console.log(`load average at the start of the creates: ${load}`);
  const p50 = (xs: number[]) => pct(xs, 50);
  const ratio = p50(reserved.create.connect_h2) / p50(baseline.create.connect_h2);
  const creates = (v: Variant) => Object.values(v.create).flat().length + v.followerCreate.length;
  console.log(
    `warm hits ${variants.map((v) => `${v.warm}/${creates(v)}`).join(", ")}; leader p50 on/off ${ratio.toFixed(2)}x; standby p50 on/off ${(p50(reserved.followerCreate) / p50(baseline.followerCreate)).toFixed(2)}x; RPC overhead ratio p50 ${(p50(unary.connect_h2) / p50(raw)).toFixed(2)}x (gRPC ${(p50(unary.grpc) / p50(raw)).toFixed(2)}x)\n`,
  );
  for (const c of variants.flatMap((v) => v.clocks)) await c.close();
  metric("create_warm_p50", p50(reserved.create.connect_h2));
  metric("create_warm_p99", pct(reserved.create.connect_h2, 99));
  metric("create_warm_standby_p50", p50(reserved.followerCreate));
  metric("create_warm_standby_p99", pct(reserved.followerCreate, 99));
  for (const p of OTHER_PROTOCOLS) metric(`create_warm_${p}_p50`, p50(reserved.create[p]));
  metric("create_warm_chained_p50", p50(baseline.create.connect_h2));
  metric("create_warm_chained_p99", pct(baseline.create.connect_h2, 99));
  metric("create_warm_chained_standby_p50", p50(baseline.followerCreate));
  metric("create_warm_chained_standby_p99", pct(baseline.followerCreate, 99));
  metric("create_warm_vs_chained_ratio_p50", ratio, "ratio");
  metric("create_warm_floor_p50", p50(floor));
  metric("create_warm_floor_ratio_p50", p50(reserved.create.connect_h2) / p50(floor), "ratio");
  metric("warm_hit_ratio", reserved.warm / creates(reserved), "ratio");
  for (const p of PROTOCOL_NAMES) metric(`rpc_unary_${p}_p50`, p50(unary[p]));
  metric("raw_http_p50", p50(raw));
  metric("rpc_overhead_ratio_p50", p50(unary.connect_h2) / p50(raw), "ratio");
} finally {
  bare.stop(true);
  for (const close of closers) close();
  await Promise.all(replicas.map((r) => r.stop()));
  for (const ns of namespaces) await kubectl(["delete", "namespace", ns, "--wait=false"]);
}
process.exit(0);
