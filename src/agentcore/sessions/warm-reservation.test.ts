/**
 * Reservations (controllers/reservation.ts, sessions/warm-reservation.ts) on the real apiserver with real
 * agentcore replicas (a leader running the controllers and a standby) and real sandbox pods. Every version
 * of every sandbox is recorded from a watch, so the tests check what was ever written, not only the end.
 * Sessions "left by a handler that died" are written by hand exactly as a handler writes them.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Client, Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import type { CodeInterpreter } from "../../api/code-interpreter";
import { API_VERSION } from "../../api/group";
import { ANNOTATIONS, LABELS } from "../../api/reserved-keys";
import { CODE_INTERPRETERS, SANDBOX_CLAIMS, SANDBOXES } from "../../api/resource-types";
import type { Sandbox } from "../../api/sandbox";
import { AgentCoreService, ProvisioningMode } from "../../gen/agentland/agentcore/v1/agentcore_pb";
import { reservedBy } from "../controllers/reservation";
import { RESERVATION, reservationAnnotation } from "../controllers/reservation-annotation";
import {
  adminClient,
  apply,
  claim,
  controllerNamespace,
  eventually,
  kubectl,
  pool,
  type Recorder,
  recordWatch,
  whileRefused,
} from "../controllers/testing/controller-fixture";
import type { RunningAgentcore } from "../start-agentcore";
import { startTestAgentcore } from "../testing/agentcore-fixture";
import { principalHash } from "./principal";
import { newSessionId } from "./session-id";

const client = adminClient();
const sessions = client.resource(CODE_INTERPRETERS);
const claims = client.resource(SANDBOX_CLAIMS);
const sandboxes = client.resource(SANDBOXES);
let ns = "";
let leader: RunningAgentcore;
let standby: RunningAgentcore;
let viaLeader: Client<typeof AgentCoreService>;
let viaStandby: Client<typeof AgentCoreService>;
let recorder: Recorder<Sandbox>;

const options = () => ({
  namespace: ns,
  provisioning: { mode: ProvisioningMode.POOL_PREFERRED, poolRef: "warm" },
});
const controllerOf = (s: Sandbox) => s.metadata.ownerReferences?.find((r) => r.controller);
const versions = (name: string) => recorder.events.filter((s) => s.metadata.name === name);
const reservedFor = (s: Sandbox) => s.metadata.annotations?.[RESERVATION.reservedFor];

/**
 * At least `n` Ready sandboxes the pool controls; `exactly`: the pool holds exactly `n` sandboxes and all of
 * them are such, so none is about to change (scaled down, or still being replaced after an earlier test).
 */
async function warmSandboxes(n: number, exactly = false): Promise<Sandbox[]> {
  return eventually(
    `${n} warm sandboxes`,
    async () => {
      const all = (await sandboxes.list({ namespace: ns, labelSelector: `${LABELS.pool}=warm` })).items;
      const warm = all.filter(
        (s) =>
          s.status?.phase === "Ready" &&
          controllerOf(s)?.kind === "SandboxPool" &&
          !s.metadata.deletionTimestamp,
      );
      if (exactly) return warm.length === n && all.length === n ? warm : undefined;
      return warm.length >= n ? warm : undefined;
    },
    60_000,
  );
}

/**
 * `n` warm sandboxes of a settled pool (see `warmSandboxes`) that kept their version for `quietMs`: a
 * freshly Ready member may still get a late status write, which would move it on while the leader waits
 * for a reservation to settle.
 */
async function quietSandboxes(n: number, quietMs = 3_000): Promise<Sandbox[]> {
  return eventually(
    `${n} warm sandboxes unchanged for ${quietMs} ms`,
    async () => {
      const before = await warmSandboxes(n, true);
      await Bun.sleep(quietMs);
      const after = await warmSandboxes(n, true);
      const same = (s: Sandbox) =>
        before.some(
          (b) =>
            b.metadata.name === s.metadata.name && b.metadata.resourceVersion === s.metadata.resourceVersion,
        );
      return after.every(same) ? after : undefined;
    },
    60_000,
  );
}

async function boundClaim(name: string) {
  return eventually(
    `claim ${name} bound`,
    async () => {
      const c = await claims.get(name, { namespace: ns }).catch(() => undefined);
      return c?.status?.sandboxName ? c : undefined;
    },
    60_000,
  );
}

async function gone(what: string, probe: () => Promise<unknown>): Promise<void> {
  await eventually(
    what,
    () =>
      probe().then(
        () => undefined,
        (err: unknown) => ((err as { code?: number }).code === 404 ? true : undefined),
      ),
    60_000,
  );
}

/**
 * A CodeInterpreter as a handler writes it: principal, and the reservation it made (or meant to make);
 * without one, as a handler with reservations off writes it.
 */
function handlerSession(
  name: string,
  reservation?: { sandbox: string; resourceVersion: string; token: string },
) {
  return {
    apiVersion: API_VERSION,
    kind: "CodeInterpreter",
    metadata: {
      name,
      namespace: ns,
      annotations: {
        [ANNOTATIONS.principal]: principalHash("ida"),
        ...(reservation ? reservationAnnotation(reservation) : {}),
      },
    },
    spec: { provisioning: { mode: "PoolPreferred", poolRef: { name: "warm" } } },
  } as unknown as CodeInterpreter;
}

const reserveByHand = (s: Sandbox, session: string, token: string, atMs: number) =>
  sandboxes.update(reservedBy(s, "CodeInterpreter", session, token, new Date(atMs).toISOString()), {
    namespace: ns,
  });

beforeAll(async () => {
  ns = await controllerNamespace("reserve");
  recorder = await recordWatch(client, SANDBOXES, ns);
  await apply(pool(ns, "warm", 3));
  leader = await startTestAgentcore(ns, ["--create-timeout=60s", "--warm-reservations=on"], {
    controllers: true,
  });
  await eventually("the first replica to lead", async () => (leader.isLeader() ? true : undefined));
  standby = await startTestAgentcore(ns, ["--create-timeout=60s", "--warm-reservations=on"], {
    controllers: true,
  });
  viaLeader = createClient(AgentCoreService, createGrpcTransport({ baseUrl: leader.url }));
  viaStandby = createClient(AgentCoreService, createGrpcTransport({ baseUrl: standby.url }));
  await warmSandboxes(3);
}, 90_000);

afterAll(async () => {
  await Promise.all([leader?.stop(2_000), standby?.stop(2_000)]);
  await recorder?.stop();
  if (ns) await kubectl(["delete", "ns", ns, "--wait=false"]);
}, 60_000);

describe("warm reservations", () => {
  test("a warm create on the leader or a standby is answered from its reservation with the pod's address, and the claim binds exactly that sandbox", async () => {
    for (const via of [viaLeader, viaStandby]) {
      await warmSandboxes(3);
      const { session } = await via.createCodeInterpreter({ principal: "ida", options: options() });
      expect(session?.phase).toBe("Ready");
      const name = session?.sandboxName ?? "";
      // Answered from the reservation: that sandbox was reserved for this session, by name, unowned.
      // (The answer comes from the write's response; the recording watch may show it a moment later.)
      const reserved = await eventually("the reservation on the recording watch", () =>
        versions(name).find((v) => reservedFor(v)?.startsWith(`CodeInterpreter/${session?.id}/`)),
      );
      expect(controllerOf(reserved)).toBeUndefined();
      // The replica that answered reads it back at once; the pod answers on the address given.
      const got = await via.getSession({ principal: "ida", id: session?.id ?? "", namespace: ns });
      expect(got.session?.podIp).toBe(session?.podIp ?? "");
      const res = await fetch(`http://${session?.podIp}:${session?.port}/`, {
        signal: AbortSignal.timeout(5_000),
      });
      expect(await res.text()).toBe("ok");
      const c = await boundClaim(session?.id ?? "");
      expect(c.status?.sandboxName).toBe(name);
      const ci = await eventually("session status Ready", async () => {
        const s = await sessions.get(session?.id ?? "", { namespace: ns });
        return s.status?.phase === "Ready" ? s : undefined;
      });
      expect(ci.status?.sandboxName).toBe(name);
      expect(ci.status?.podIP).toBe(session?.podIp ?? "");
      await via.deleteSession({ principal: "ida", id: session?.id ?? "", namespace: ns });
      await gone("the session's sandbox", () => sandboxes.get(name, { namespace: ns }));
    }
  }, 120_000);

  test("a warm create writes its session's status once (Ready, naming claim and sandbox), on either replica", async () => {
    const seen = await recordWatch(client, CODE_INTERPRETERS, ns);
    try {
      for (const via of [viaLeader, viaStandby]) {
        await warmSandboxes(3);
        const { session } = await via.createCodeInterpreter({ principal: "ida", options: options() });
        const id = session?.id ?? "";
        await boundClaim(id);
        await eventually("session status Ready", async () => {
          const s = await sessions.get(id, { namespace: ns });
          return s.status?.phase === "Ready" ? s : undefined;
        });
        // Past the quiet period in which a session on its way gets no Pending status: any later write shows.
        await Bun.sleep(4_000);
        // Every status the watch delivered that differs from the one before it is a write.
        const statuses = seen.events.filter((v) => v.metadata.name === id).map((v) => v.status);
        const written = statuses.filter(
          (s, i) => JSON.stringify(s ?? null) !== JSON.stringify(statuses[i - 1] ?? null),
        );
        expect(written.map((s) => s?.phase)).toEqual(["Ready"]);
        expect(written[0]?.claimName).toBe(id);
        expect(written[0]?.sandboxName).toBe(session?.sandboxName);
        await via.deleteSession({ principal: "ida", id, namespace: ns });
      }
    } finally {
      await seen.stop();
    }
  }, 120_000);

  test("a session deleted right after its warm create leaves neither its reservation nor anything else", async () => {
    await warmSandboxes(3);
    const { session } = await viaStandby.createCodeInterpreter({ principal: "ida", options: options() });
    await viaStandby.deleteSession({ principal: "ida", id: session?.id ?? "", namespace: ns });
    await gone("the reserved sandbox", () => sandboxes.get(session?.sandboxName ?? "", { namespace: ns }));
    await gone("the claim", () => claims.get(session?.id ?? "", { namespace: ns }));
    await gone("the session", () => sessions.get(session?.id ?? "", { namespace: ns }));
  }, 120_000);

  test("a reservation whose session POST is refused is deleted before the answer, and nothing is left", async () => {
    await warmSandboxes(3);
    await whileRefused(ns, "codeinterpreters", async () => {
      const from = recorder.events.length;
      const err = await viaStandby.createCodeInterpreter({ principal: "ida", options: options() }).then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
      expect(err?.code).toBe(Code.Unavailable);
      const reserved = recorder.events.slice(from).filter((v) => reservedFor(v) && !controllerOf(v));
      expect(new Set(reserved.map((v) => v.metadata.name)).size).toBe(1);
      const name = reserved[0]?.metadata.name ?? "";
      await gone("the released reservation", () => sandboxes.get(name, { namespace: ns }));
      expect((await sessions.list({ namespace: ns })).items).toEqual([]);
    });
  }, 120_000);

  test("while its claim is refused, a session answered from its reservation says Ready with that sandbox; the claim binds it once it can", async () => {
    await warmSandboxes(3);
    const seen = await recordWatch(client, CODE_INTERPRETERS, ns);
    try {
      let sandbox = "";
      let id = "";
      await whileRefused(ns, "sandboxclaims", async () => {
        const { session } = await viaStandby.createCodeInterpreter({ principal: "ida", options: options() });
        sandbox = session?.sandboxName ?? "";
        id = session?.id ?? "";
        const ready = await eventually("session status Ready", async () => {
          const s = await sessions.get(id, { namespace: ns });
          return s.status?.phase === "Ready" ? s : undefined;
        });
        expect(ready.status?.sandboxName).toBe(sandbox);
        expect(ready.status?.claimName).toBeUndefined();
        expect(await claims.get(id, { namespace: ns }).catch((e: { code?: number }) => e.code)).toBe(404);
      });
      expect((await boundClaim(id)).status?.sandboxName).toBe(sandbox);
      const phases = seen.events
        .filter((v) => v.metadata.name === id && v.status)
        .map((v) => `${v.status?.phase} ${v.status?.sandboxName}`);
      expect(new Set(phases)).toEqual(new Set([`Ready ${sandbox}`]));
      await viaStandby.deleteSession({ principal: "ida", id, namespace: ns });
    } finally {
      await seen.stop();
    }
  }, 120_000);

  test("a reservation no session takes (its handler died before the POST, or its session has another token) is deleted after the grace period; that session is served by another sandbox", async () => {
    const [orphan, foreign] = await warmSandboxes(3);
    const past = Date.now() - 60_000;
    // Handler died between its writes: the reservation landed, the session never did.
    await reserveByHand(orphan as Sandbox, newSessionId("ci-"), "aaaa", past);
    // A session recreated under the same name: the sandbox is reserved for the older one's token.
    const name = newSessionId("ci-");
    const stale = await reserveByHand(foreign as Sandbox, name, "old", past);
    const recreated = await sessions.create(
      handlerSession(name, {
        sandbox: stale.metadata.name ?? "",
        resourceVersion: stale.metadata.resourceVersion ?? "",
        token: "new",
      }),
      { namespace: ns },
    );
    await gone("the orphaned reservation", () =>
      sandboxes.get(orphan?.metadata.name ?? "", { namespace: ns }),
    );
    await gone("the stale reservation", () => sandboxes.get(foreign?.metadata.name ?? "", { namespace: ns }));
    const c = await boundClaim(name);
    expect(c.status?.sandboxName).not.toBe(foreign?.metadata.name ?? "");
    // Never taken for the recreated session.
    const taken = versions(foreign?.metadata.name ?? "").filter(
      (v) => controllerOf(v)?.uid === recreated.metadata.uid || v.spec.claimRef,
    );
    expect(taken).toEqual([]);
    await sessions.delete(name, { namespace: ns });
  }, 120_000);

  test("a session whose reservation PUT never landed gets that very sandbox from the leader if it is unchanged, and any other if it changed", async () => {
    // A settled pool: the sandbox taken as "unchanged" must not change for reasons of the pool's own.
    const [unchanged, changed] = await quietSandboxes(3);
    // The handler died after its POST: the sandbox is still at the version it read.
    const first = newSessionId("ci-");
    await sessions.create(
      handlerSession(first, {
        sandbox: unchanged?.metadata.name ?? "",
        resourceVersion: unchanged?.metadata.resourceVersion ?? "",
        token: "t1",
      }),
      { namespace: ns },
    );
    expect((await boundClaim(first)).status?.sandboxName).toBe(unchanged?.metadata.name ?? "");
    // Its PUT lost a race (Conflict): the sandbox moved on from the version it read. Created only now: a
    // session provisioned as if it had no reservation may pre-adopt any warm sandbox, that one included.
    const second = newSessionId("ci-");
    await sessions.create(
      handlerSession(second, { sandbox: changed?.metadata.name ?? "", resourceVersion: "1", token: "t2" }),
      { namespace: ns },
    );
    const other = await boundClaim(second);
    expect(other.status?.sandboxName).toBeDefined();
    for (const n of [first, second]) await sessions.delete(n, { namespace: ns });
  }, 120_000);

  test("a reservation PUT that lands seconds after the session's POST is not raced: the session ends on that sandbox", async () => {
    const [late] = await quietSandboxes(3);
    if (!late) throw new Error("no warm sandbox");
    const name = newSessionId("ci-");
    const token = "late";
    await sessions.create(
      handlerSession(name, {
        sandbox: late.metadata.name ?? "",
        resourceVersion: late.metadata.resourceVersion ?? "",
        token,
      }),
      { namespace: ns },
    );
    // A handler whose PUT waited for a connection in a burst: still inside its answer window.
    await Bun.sleep(4_000);
    // Succeeds only if nobody wrote the sandbox meanwhile (the PUT is conditional on the version read).
    await reserveByHand(late, name, token, Date.now());
    expect((await boundClaim(name)).status?.sandboxName).toBe(late.metadata.name ?? "");
    await sessions.delete(name, { namespace: ns });
  }, 120_000);

  test("sessions without a reservation never take a warm sandbox another session's reservation may still land on; that session ends on it", async () => {
    const [awaited] = await quietSandboxes(3);
    const awaitedName = awaited?.metadata.name ?? "";
    const name = newSessionId("ci-");
    await sessions.create(
      handlerSession(name, {
        sandbox: awaitedName,
        resourceVersion: awaited?.metadata.resourceVersion ?? "",
        token: "a",
      }),
      { namespace: ns },
    );
    // Created while that reservation's PUT may still be in flight; between them they want every warm
    // sandbox the pool has.
    const others = [newSessionId("ci-"), newSessionId("ci-"), newSessionId("ci-")];
    const created = await Promise.all(
      others.map((other) => sessions.create(handlerSession(other), { namespace: ns })),
    );
    for (const other of others) expect((await boundClaim(other)).status?.sandboxName).not.toBe(awaitedName);
    expect((await boundClaim(name)).status?.sandboxName).toBe(awaitedName);
    // Never held by another session, pre-adopted (controller: the session) or claimed (claimRef: its claim).
    const othersUids = created.map((c) => c.metadata.uid);
    const takenByOthers = versions(awaitedName).filter(
      (v) => othersUids.includes(controllerOf(v)?.uid) || others.includes(v.spec.claimRef?.name ?? ""),
    );
    expect(takenByOthers).toEqual([]);
    for (const n of [name, ...others]) await sessions.delete(n, { namespace: ns });
  }, 120_000);

  test("creates on two replicas racing standalone claims never share a sandbox, and every one ends bound", async () => {
    await apply(pool(ns, "warm", 4));
    await warmSandboxes(4);
    const from = recorder.events.length;
    const created = await Promise.all([
      ...[viaLeader, viaStandby, viaLeader, viaStandby, viaLeader, viaStandby].map((via) =>
        via.createCodeInterpreter({ principal: "ida", options: options() }),
      ),
      ...[1, 2, 3].map((i) =>
        claims.create(claim(ns, `race-${i}`, { poolRef: { name: "warm" }, mode: "PoolPreferred" }) as never, {
          namespace: ns,
        }),
      ),
    ]);
    const ids = created.flatMap((r) => ("session" in r && r.session ? [r.session.id] : []));
    expect(ids.length).toBe(6);
    const bound = await Promise.all([...ids, "race-1", "race-2", "race-3"].map((n) => boundClaim(n)));
    expect(new Set(bound.map((c) => c.status?.sandboxName)).size).toBe(9);
    // Every sandbox, through every version: reserved for at most one session, held by at most one
    // session and one claim, and only ever moved on to the claim named like its session.
    const byName = new Map<string, Sandbox[]>();
    for (const v of recorder.events.slice(from)) {
      byName.set(v.metadata.name ?? "", [...(byName.get(v.metadata.name ?? "") ?? []), v]);
    }
    for (const [name, vs] of byName) {
      const reservedNames = new Set(vs.map((v) => reservedFor(v)?.split("/")[1]).filter((n) => n));
      const holders = new Set(
        vs.map((v) => controllerOf(v)).flatMap((r) => (r && r.kind !== "SandboxPool" ? [r.name] : [])),
      );
      const claimRefs = new Set(vs.flatMap((v) => (v.spec.claimRef ? [v.spec.claimRef.uid] : [])));
      expect({ name, reserved: reservedNames.size <= 1 }).toEqual({ name, reserved: true });
      expect({ name, holders: holders.size <= 1 }).toEqual({ name, holders: true });
      expect({ name, claimRefs: claimRefs.size <= 1 }).toEqual({ name, claimRefs: true });
      const [reservedName] = reservedNames;
      const [holder] = holders;
      if (reservedName && holder) expect(holder).toBe(reservedName);
    }
    for (const id of ids) await viaLeader.deleteSession({ principal: "ida", id: id ?? "", namespace: ns });
    for (const i of [1, 2, 3]) await claims.delete(`race-${i}`, { namespace: ns });
  }, 180_000);
});
