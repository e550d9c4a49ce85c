/**
 * A session reads Ready from its adopted sandbox before the leader writes its status — and only from a
 * Ready sandbox held by the session's own claim, or pre-adopted by the session itself (its uid). On the real apiserver, controllers off: the claims and
 * sandboxes are written by hand, and the session CRs' own status stays empty throughout.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { SANDBOX_CLAIMS, SANDBOXES } from "../../api/resource-types";
import type { Sandbox } from "../../api/sandbox";
import type { SandboxClaim } from "../../api/sandbox-claim";
import { createKubeClient } from "../../kube/kube-client";
import { loadKubeconfigFile } from "../../kube/kube-config";
import { cluster, kubectl, sessionFor } from "../testing/agentcore-fixture";
import { createSessionCache, type SessionCache } from "./session-cache";
import { CODE_INTERPRETER_KIND as CI } from "./session-kinds";
import { readiness } from "./session-readiness";

const ROOT = join(import.meta.dir, "../../..");
const API = "agentland.fl0rencess720.app/v1alpha1";
const admin = createKubeClient(loadKubeconfigFile(cluster.kubeconfig), {
  qps: 0,
  userAgent: "session-sandboxes-test",
});
const claims = admin.resource(SANDBOX_CLAIMS);
const sandboxes = admin.resource(SANDBOXES);
let ns = "";
let cache: SessionCache;

const uidOf = async (resource: string, name: string) =>
  (await kubectl(["-n", ns, "get", resource, name, "-o", "jsonpath={.metadata.uid}"])).trim();

/** A claim named like the session, controlled by `ownerUid` (the session's, unless a test says otherwise). */
async function claimFor(session: string, ownerUid: string): Promise<string> {
  return (await claimObjectFor(session, ownerUid)).metadata?.uid ?? "";
}

/**
 * The claim as created. (One whose owner does not exist is soon removed by the garbage collector: the
 * object as created is all a test can rely on.)
 */
function claimObjectFor(session: string, ownerUid: string): Promise<SandboxClaim> {
  return claims.create(
    {
      apiVersion: API,
      kind: "SandboxClaim",
      metadata: {
        name: session,
        namespace: ns,
        ownerReferences: [
          { apiVersion: API, kind: "CodeInterpreter", name: session, uid: ownerUid, controller: true },
        ],
      },
      spec: { poolRef: { name: "warm" }, mode: "PoolRequired" },
    } as never,
    { namespace: ns },
  );
}

/**
 * A Ready sandbox as the apiserver last wrote it: unclaimed (warm, as its pool leaves it) or, with `claimRef`,
 * adopted by that claim.
 */
async function readySandbox(
  name: string,
  podIP: string,
  claimRef?: { readonly name: string; readonly uid: string },
  meta: Record<string, unknown> = {},
): Promise<Sandbox> {
  await sandboxes.create(
    {
      apiVersion: API,
      kind: "Sandbox",
      metadata: { name, namespace: ns, ...meta },
      spec: {
        sandboxTemplate: { image: "agentland/code-interpreter:0.1.0", port: 1883 },
        ...(claimRef ? { claimRef } : {}),
      },
    } as never,
    { namespace: ns },
  );
  return sandboxes.patchStatus(name, {
    namespace: ns,
    type: "merge",
    patch: { status: { phase: "Ready", podName: name, podIP, port: 1883 } },
  });
}

/** What a session's pre-adoption leaves on a pool's sandbox: the pool's label, the session as controller. */
const preAdoptedMeta = (session: string, uid: string) => ({
  labels: { "agentland.fl0rencess720.app/pool": "warm" },
  ownerReferences: [
    {
      apiVersion: API,
      kind: "CodeInterpreter",
      name: session,
      uid,
      controller: true,
      blockOwnerDeletion: true,
    },
  ],
});

/** Polls `probe` until it returns a value (the cache's watches are asynchronous), at most `ms`. */
async function eventually<T>(probe: () => T | undefined, ms = 10_000): Promise<T | undefined> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await Bun.sleep(20)) {
    const v = probe();
    if (v !== undefined) return v;
  }
  return undefined;
}

/** The session as the cache shows it once Ready (a watch may take a moment), at most 15 s. */
const readyIn = (session: string) =>
  cache.waitFor(
    CI,
    ns,
    session,
    (obj) => (obj && readiness(obj).state === "ready" ? obj : undefined),
    AbortSignal.timeout(15_000),
  );

const statusOnServer = async (name: string) =>
  (await kubectl(["-n", ns, "get", "codeinterpreter", name, "-o", "jsonpath={.status.phase}"])).trim();

beforeAll(async () => {
  for (const f of ["agentruntimes", "agentsessions", "codeinterpreters", "sandboxes", "sandboxclaims"])
    await kubectl(["apply", "-f", join(ROOT, `manifests/00-crd-${f}.yaml`)]);
  await kubectl(["wait", "--for=condition=Established", "crd", "--all", "--timeout=30s"]);
  ns = await cluster.createNamespace("session-sandboxes");
  cache = createSessionCache(admin, [ns]);
  cache.start();
  await cache.waitForSync(AbortSignal.timeout(20_000));
}, 60_000);

afterAll(async () => {
  await cache?.stop();
  await kubectl(["delete", "ns", ns, "--wait=false"]);
}, 30_000);

describe("session sandboxes", () => {
  test("a session reads Ready with its pod address once its own claim holds a Ready sandbox, before its status says so", async () => {
    const session = await sessionFor(ns, "amy", {});
    const claimUid = await claimFor(session, await uidOf("codeinterpreter", session));
    const waiting = readyIn(session);
    await readySandbox("sbx-own", "127.0.9.1", { name: session, uid: claimUid });
    const obj = await waiting;
    expect(obj.status).toMatchObject({
      phase: "Ready",
      podName: "sbx-own",
      podIP: "127.0.9.1",
      port: 1883,
      sandboxName: "sbx-own",
      claimName: session,
    });
    expect(await statusOnServer(session)).toBe("");
  }, 30_000);

  test("a Ready sandbox of a claim the session does not control, or held under another claim uid, never makes it Ready", async () => {
    const foreign = await sessionFor(ns, "bob", {});
    const foreignClaimUid = await claimFor(foreign, "00000000-0000-0000-0000-000000000000");
    await readySandbox("sbx-foreign-claim", "127.0.9.2", { name: foreign, uid: foreignClaimUid });
    const stale = await sessionFor(ns, "bob", {});
    await claimFor(stale, await uidOf("codeinterpreter", stale));
    await readySandbox("sbx-other-uid", "127.0.9.3", {
      name: stale,
      uid: "11111111-1111-1111-1111-111111111111",
    });
    // A control written after both: once the cache shows it Ready, the sandbox watch (one ordered stream)
    // has delivered both sandboxes above as well.
    const control = await sessionFor(ns, "bob", {});
    const controlUid = await claimFor(control, await uidOf("codeinterpreter", control));
    await readySandbox("sbx-control", "127.0.9.4", { name: control, uid: controlUid });
    await readyIn(control);
    for (const name of [foreign, stale]) {
      const obj = cache.get(CI, ns, name);
      expect(obj).toBeDefined();
      expect(obj && readiness(obj).state).toBe("pending");
      expect(obj?.status?.podIP).toBeUndefined();
    }
  }, 30_000);

  test("this replica's own adoption write shows the session Ready before any watch does, and the watch rules once it shows that sandbox", async () => {
    const session = await sessionFor(ns, "cyd", {});
    const claim = await claimObjectFor(session, await uidOf("codeinterpreter", session));
    const claimUid = claim.metadata.uid ?? "";
    const warm = await readySandbox("sbx-written", "127.0.9.5");
    // The adoption as its PUT would have returned it; never written, so no watch ever shows it.
    const written: Sandbox = { ...warm, spec: { ...warm.spec, claimRef: { name: session, uid: claimUid } } };
    const ready = () => {
      const obj = cache.get(CI, ns, session);
      return obj && readiness(obj).state === "ready" ? obj : undefined;
    };
    // Noted until the cache's own sandbox watch has seen the warm sandbox (a note only stands in for it).
    const obj = await eventually(() => {
      cache.adopted(claim, written);
      return ready();
    });
    expect(obj?.status).toMatchObject({ phase: "Ready", podIP: "127.0.9.5", sandboxName: "sbx-written" });
    expect(await statusOnServer(session)).toBe("");
    // The sandbox really goes to another claim: once the watch shows it claimed, the note is void.
    await sandboxes.update(
      {
        ...warm,
        spec: { ...warm.spec, claimRef: { name: session, uid: "22222222-2222-2222-2222-222222222222" } },
      },
      { namespace: ns },
    );
    const pending = await eventually(() => {
      const o = cache.get(CI, ns, session);
      return o && readiness(o).state === "pending" ? o : undefined;
    });
    expect(pending?.status?.podIP).toBeUndefined();
  }, 30_000);

  test("a noted adoption whose sandbox names another claim uid, or whose claim the session does not control, never makes it Ready", async () => {
    const session = await sessionFor(ns, "dee", {});
    const claim = await claimObjectFor(session, await uidOf("codeinterpreter", session));
    const warm = await readySandbox("sbx-mismatch", "127.0.9.6");
    const otherUid: Sandbox = {
      ...warm,
      spec: { ...warm.spec, claimRef: { name: session, uid: "33333333-3333-3333-3333-333333333333" } },
    };
    const foreign = await sessionFor(ns, "dee", {});
    const foreignClaim = await claimObjectFor(foreign, "00000000-0000-0000-0000-000000000000");
    const foreignClaimUid = foreignClaim.metadata.uid ?? "";
    const warm2 = await readySandbox("sbx-foreign-note", "127.0.9.7");
    const foreignNote: Sandbox = {
      ...warm2,
      spec: { ...warm2.spec, claimRef: { name: foreign, uid: foreignClaimUid } },
    };
    // A control noted the same way shows when the notes are in effect (the cache has seen the sandboxes).
    const control = await sessionFor(ns, "dee", {});
    const controlClaim = await claimObjectFor(control, await uidOf("codeinterpreter", control));
    const controlUid = controlClaim.metadata.uid ?? "";
    const warm3 = await readySandbox("sbx-control-note", "127.0.9.8");
    const controlNote: Sandbox = {
      ...warm3,
      spec: { ...warm3.spec, claimRef: { name: control, uid: controlUid } },
    };
    const shown = await eventually(() => {
      cache.adopted(claim, otherUid);
      cache.adopted(foreignClaim, foreignNote);
      cache.adopted(controlClaim, controlNote);
      const o = cache.get(CI, ns, control);
      return o && readiness(o).state === "ready" ? o : undefined;
    });
    expect(shown).toBeDefined();
    for (const name of [session, foreign]) {
      const o = cache.get(CI, ns, name);
      expect(o && readiness(o).state).toBe("pending");
    }
  }, 30_000);

  test("a session reads Ready from the warm sandbox it pre-adopted before its claim exists, from the watch and from this replica's own write; never from one pre-adopted for another uid", async () => {
    const session = await sessionFor(ns, "eve", {});
    const uid = await uidOf("codeinterpreter", session);
    const stale = await sessionFor(ns, "eve", {});
    // Pre-adopted for an older session of that name (another uid): never this session's. (Its owner does
    // not exist, so the garbage collector removes it soon; the control below is written right after.)
    const pre = await readySandbox("sbx-pre-stale", "127.0.9.9");
    await sandboxes.update(
      {
        ...pre,
        metadata: { ...pre.metadata, ...preAdoptedMeta(stale, "55555555-5555-5555-5555-555555555555") },
      } as Sandbox,
      { namespace: ns },
    );
    const waiting = readyIn(session);
    await readySandbox("sbx-pre", "127.0.9.10", undefined, preAdoptedMeta(session, uid));
    const obj = await waiting;
    expect(obj.status).toMatchObject({ phase: "Ready", podIP: "127.0.9.10", sandboxName: "sbx-pre" });
    // The claim it is for is named like the session (the RPC reports such a session as warm).
    expect(obj.status?.claimName).toBe(session);
    expect(await statusOnServer(session)).toBe("");
    const o = cache.get(CI, ns, stale);
    expect(o && readiness(o).state).toBe("pending");
    // The leader's own pre-adoption write, before any watch shows it.
    const noted = await sessionFor(ns, "eve", {});
    const notedUid = await uidOf("codeinterpreter", noted);
    const warm = await readySandbox("sbx-pre-noted", "127.0.9.11", undefined, {
      labels: { "agentland.fl0rencess720.app/pool": "warm" },
    });
    const written: Sandbox = {
      ...warm,
      metadata: { ...warm.metadata, ...preAdoptedMeta(noted, notedUid) },
    } as Sandbox;
    const holder = { kind: "CodeInterpreter", metadata: { name: noted, namespace: ns, uid: notedUid } };
    const shown = await eventually(() => {
      cache.adopted(holder, written);
      const got = cache.get(CI, ns, noted);
      return got && readiness(got).state === "ready" ? got : undefined;
    });
    expect(shown?.status).toMatchObject({ podIP: "127.0.9.11", sandboxName: "sbx-pre-noted" });
  }, 30_000);
});
