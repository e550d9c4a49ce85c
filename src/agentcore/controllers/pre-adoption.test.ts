/**
 * Pre-adoption (warm-adoption.ts): a pool-mode session takes its warm sandbox at the same time as it creates
 * its claim, and the claim completes the binding. On the real apiserver with real controllers: every
 * version of every sandbox is recorded from a watch, so the tests check what was ever written, not only
 * where things ended.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { CodeInterpreter } from "../../api/code-interpreter";
import { LABELS } from "../../api/reserved-keys";
import { CODE_INTERPRETERS, SANDBOX_CLAIMS, SANDBOXES } from "../../api/resource-types";
import type { Sandbox } from "../../api/sandbox";
import {
  API,
  adminClient,
  apply,
  claim,
  controllerNamespace,
  eventually,
  kubectl,
  pool,
  type Recorder,
  type RunningControllers,
  recordWatch,
  startControllers,
  whileRefused,
} from "./testing/controller-fixture";

const client = adminClient();
const sessions = client.resource(CODE_INTERPRETERS);
const claims = client.resource(SANDBOX_CLAIMS);
const sandboxes = client.resource(SANDBOXES);
let ns = "";
let controllers: RunningControllers | undefined;
let recorder: Recorder<Sandbox>;

const interpreter = (name: string, mode = "PoolPreferred") =>
  ({
    apiVersion: API,
    kind: "CodeInterpreter",
    metadata: { name, namespace: ns },
    spec: { provisioning: { mode, poolRef: { name: "warm" } } },
  }) as unknown as CodeInterpreter;

const controllerUid = (s: Sandbox) => s.metadata.ownerReferences?.find((r) => r.controller)?.uid;

/** Every version of the named sandbox the watch delivered. */
const versions = (name: string) => recorder.events.filter((s) => s.metadata.name === name);

async function readyWarm(n: number): Promise<Sandbox[]> {
  return eventually(
    `${n} warm sandboxes`,
    async () => {
      const all = (await sandboxes.list({ namespace: ns, labelSelector: `${LABELS.pool}=warm` })).items;
      const warm = all.filter(
        (s) =>
          !s.spec.claimRef &&
          s.status?.phase === "Ready" &&
          s.metadata.ownerReferences?.[0]?.kind === "SandboxPool" &&
          !s.metadata.deletionTimestamp,
      );
      return warm.length >= n ? warm : undefined;
    },
    60_000,
  );
}

async function sessionReady(name: string): Promise<CodeInterpreter> {
  return eventually(
    `${name} Ready`,
    async () => {
      const s = await sessions.get(name, { namespace: ns });
      return s.status?.phase === "Ready" ? s : undefined;
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
    30_000,
  );
}

beforeAll(async () => {
  ns = await controllerNamespace("ctl-preadopt");
  recorder = await recordWatch(client, SANDBOXES, ns);
  controllers = await startControllers(ns);
  await apply(pool(ns, "warm", 2));
  await readyWarm(2);
}, 90_000);

afterAll(async () => {
  await controllers?.stop();
  await recorder?.stop();
  if (ns) await kubectl(["delete", "ns", ns, "--wait=false"]);
}, 60_000);

/**
 * Sessions created while the namespace refuses claims (see the test using it): each holds a warm sandbox
 * with no claim; one is deleted and its sandbox with it. Returns the sandbox each session took.
 */
async function refusedClaims(): Promise<Map<string, string>> {
  for (const name of ["refused", "refused-then-deleted"])
    await sessions.create(interpreter(name), { namespace: ns });

  const taken = new Map<string, string>();
  for (const name of ["refused", "refused-then-deleted"]) {
    const s = await sessionReady(name);
    const sbx = await sandboxes.get(s.status?.sandboxName ?? "", { namespace: ns });
    expect(sbx.spec.claimRef).toBeUndefined();
    expect(controllerUid(sbx)).toBe(s.metadata.uid);
    taken.set(name, sbx.metadata.name ?? "");
  }
  expect(await claims.get("refused", { namespace: ns }).catch(() => undefined)).toBeUndefined();
  await sessions.delete("refused-then-deleted", { namespace: ns });
  await gone("the deleted session's sandbox", () =>
    sandboxes.get(taken.get("refused-then-deleted") ?? "", { namespace: ns }),
  );
  return taken;
}

/** Once claims are allowed again, the remaining session's claim binds the sandbox it already holds. */
async function claimsAllowed(taken: Map<string, string>): Promise<void> {
  const c = await eventually(
    "claim created and bound",
    async () => {
      const got = await claims.get("refused", { namespace: ns }).catch(() => undefined);
      return got?.status?.sandboxName ? got : undefined;
    },
    60_000,
  );
  expect(c.status?.sandboxName).toBe(taken.get("refused") ?? "");
  const sbx = await sandboxes.get(taken.get("refused") ?? "", { namespace: ns });
  expect(sbx.spec.claimRef?.uid).toBe(c.metadata.uid ?? "");
  await sessions.delete("refused", { namespace: ns });
}

describe("pre-adoption", () => {
  test("a pool-mode session takes a warm sandbox before its claim holds it, and the claim completes the binding with that same sandbox", async () => {
    await sessions.create(interpreter("first"), { namespace: ns });
    const s = await sessionReady("first");
    const session = await sessions.get("first", { namespace: ns });
    const name = s.status?.sandboxName ?? "";
    const c = await eventually("claim bound", async () => {
      const got = await claims.get("first", { namespace: ns });
      return got.status?.sandboxName ? got : undefined;
    });
    expect(c.status?.sandboxName).toBe(name);
    const sbx = await sandboxes.get(name, { namespace: ns });
    expect(sbx.spec.claimRef).toEqual({ name: "first", uid: c.metadata.uid ?? "" });
    expect(controllerUid(sbx)).toBe(c.metadata.uid);
    // On its way it was the session's, with no claimRef: the write that answered the create.
    const held = versions(name).find((v) => !v.spec.claimRef && controllerUid(v) === session.metadata.uid);
    expect(held).toBeDefined();
    // The pool refills what was taken.
    await readyWarm(2);
  }, 90_000);

  test("standalone claims racing sessions' pre-adoptions never share a sandbox, and all of them end bound", async () => {
    await apply(pool(ns, "warm", 6));
    await readyWarm(6);
    const from = recorder.events.length;
    const names = Array.from({ length: 6 }, (_, i) => `race-${i}`);
    await Promise.all(
      names.flatMap((n) => [
        sessions.create(interpreter(`${n}-s`), { namespace: ns }),
        claims.create(claim(ns, `${n}-c`, { poolRef: { name: "warm" }, mode: "PoolPreferred" }) as never, {
          namespace: ns,
        }),
      ]),
    );
    for (const n of names) await sessionReady(`${n}-s`);
    const bound = await eventually(
      "every claim bound",
      async () => {
        const all = (await claims.list({ namespace: ns })).items.filter((c) =>
          c.metadata.name?.startsWith("race-"),
        );
        return all.length === 12 && all.every((c) => c.status?.sandboxName) ? all : undefined;
      },
      60_000,
    );
    const held = bound.map((c) => c.status?.sandboxName);
    expect(new Set(held).size).toBe(12);
    // No sandbox ever had two holders: once taken from its pool, its controller is one session, then at
    // most that session's claim; a claimRef is set once.
    const sessionUids = new Map<string, string>();
    for (const n of names) {
      const s = await sessions.get(`${n}-s`, { namespace: ns });
      sessionUids.set(s.metadata.uid ?? "", `${n}-s`);
    }
    const byName = new Map<string, Sandbox[]>();
    for (const v of recorder.events.slice(from)) {
      const list = byName.get(v.metadata.name ?? "") ?? [];
      list.push(v);
      byName.set(v.metadata.name ?? "", list);
    }
    for (const [name, vs] of byName) {
      const holders = new Set(
        vs
          .map((v) => v.metadata.ownerReferences?.find((r) => r.controller))
          .filter((r) => r && r.kind !== "SandboxPool")
          .map((r) => (r?.kind === "SandboxClaim" ? `claim:${r.name}` : `session:${r?.name}`)),
      );
      const claimRefs = new Set(vs.map((v) => v.spec.claimRef?.uid).filter((u) => u !== undefined));
      expect({ name, claimRefs: claimRefs.size }).toEqual({ name, claimRefs: Math.min(claimRefs.size, 1) });
      // A session's sandbox moves on only to that session's own claim (named like it).
      const sessionsHolding = [...holders].filter((h) => h.startsWith("session:"));
      expect({ name, sessionsHolding: sessionsHolding.length <= 1 }).toEqual({ name, sessionsHolding: true });
      const claimsHolding = [...holders].filter((h) => h.startsWith("claim:"));
      expect({ name, claimsHolding: claimsHolding.length <= 1 }).toEqual({ name, claimsHolding: true });
      if (sessionsHolding.length === 1 && claimsHolding.length === 1)
        expect(claimsHolding[0]?.slice(6)).toBe(sessionsHolding[0]?.slice(8) ?? "");
    }
    for (const n of names) await sessions.delete(`${n}-s`, { namespace: ns });
    for (const n of names) await claims.delete(`${n}-c`, { namespace: ns });
  }, 180_000);

  test("a session whose claim cannot be created keeps its warm sandbox, its claim binds that sandbox once it can, and deleting such a session deletes the sandbox", async () => {
    await apply(pool(ns, "warm", 2));
    await readyWarm(2);
    // The apiserver refuses every claim in the namespace for now.
    const taken = await whileRefused(ns, "sandboxclaims", refusedClaims);
    await claimsAllowed(taken);
  }, 180_000);

  test("a new leader completes a binding the old one left half-done, and never hands a session a sandbox pre-adopted for an older uid", async () => {
    await apply(pool(ns, "warm", 3));
    const [half, stale] = await readyWarm(3);
    await controllers?.stop();
    controllers = undefined;
    // The old leader's last writes: session "half" took a warm sandbox; its claim was never written.
    const session = await sessions.create(interpreter("half"), { namespace: ns });
    const preAdopt = (sbx: Sandbox, name: string, uid: string) =>
      sandboxes.update(
        {
          ...sbx,
          metadata: {
            ...sbx.metadata,
            labels: { ...sbx.metadata.labels, [LABELS.session]: name },
            ownerReferences: [
              {
                apiVersion: API,
                kind: "CodeInterpreter",
                name,
                uid,
                controller: true,
                blockOwnerDeletion: true,
              },
            ],
          },
        },
        { namespace: ns },
      );
    await preAdopt(half as Sandbox, "half", session.metadata.uid ?? "");
    // Session "again", recreated: a sandbox still pre-adopted for its previous uid (until collected).
    await preAdopt(stale as Sandbox, "again", "44444444-4444-4444-4444-444444444444");
    await sessions.create(interpreter("again"), { namespace: ns });
    controllers = await startControllers(ns);
    const c = await eventually(
      "claim created and bound",
      async () => {
        const got = await claims.get("half", { namespace: ns }).catch(() => undefined);
        return got?.status?.sandboxName ? got : undefined;
      },
      60_000,
    );
    expect(c.status?.sandboxName).toBe(half?.metadata.name ?? "");
    expect((await sessionReady("half")).status?.sandboxName).toBe(half?.metadata.name ?? "");
    const again = await sessionReady("again");
    expect(again.status?.sandboxName).not.toBe(stale?.metadata.name ?? "");
    expect(
      versions(stale?.metadata.name ?? "").filter(
        (v) => v.spec.claimRef || controllerUid(v) === again.metadata.uid,
      ),
    ).toEqual([]);
    // Exactly one sandbox for "half": nothing else was ever taken for it.
    const forHalf = recorder.events.filter(
      (v) => controllerUid(v) === session.metadata.uid || v.spec.claimRef?.uid === c.metadata.uid,
    );
    expect(new Set(forHalf.map((v) => v.metadata.name))).toEqual(new Set([half?.metadata.name ?? ""]));
  }, 180_000);
});
