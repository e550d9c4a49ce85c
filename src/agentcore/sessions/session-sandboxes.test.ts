/**
 * A session reads Ready from its adopted sandbox before the leader writes its status — and only from a
 * Ready sandbox held by the session's own claim. On the real apiserver, controllers off: the claims and
 * sandboxes are written by hand, and the session CRs' own status stays empty throughout.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { SANDBOX_CLAIMS, SANDBOXES } from "../../api/resource-types";
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
  const created = await claims.create(
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
  return created.metadata?.uid ?? "";
}

/** A Ready sandbox whose claimRef names `claim` with `claimUid`, as an adoption leaves it. */
async function readySandbox(name: string, claim: string, claimUid: string, podIP: string): Promise<void> {
  await sandboxes.create(
    {
      apiVersion: API,
      kind: "Sandbox",
      metadata: { name, namespace: ns },
      spec: {
        sandboxTemplate: { image: "agentland/code-interpreter:0.1.0", port: 1883 },
        claimRef: { name: claim, uid: claimUid },
      },
    } as never,
    { namespace: ns },
  );
  await sandboxes.patchStatus(name, {
    namespace: ns,
    type: "merge",
    patch: { status: { phase: "Ready", podName: name, podIP, port: 1883 } },
  });
}

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
    const waiting = cache.waitFor(
      CI,
      ns,
      session,
      (obj) => (obj && readiness(obj).state === "ready" ? obj : undefined),
      AbortSignal.timeout(15_000),
    );
    await readySandbox("sbx-own", session, claimUid, "127.0.9.1");
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
    await readySandbox("sbx-foreign-claim", foreign, foreignClaimUid, "127.0.9.2");
    const stale = await sessionFor(ns, "bob", {});
    await claimFor(stale, await uidOf("codeinterpreter", stale));
    await readySandbox("sbx-other-uid", stale, "11111111-1111-1111-1111-111111111111", "127.0.9.3");
    // A control written after both: once the cache shows it Ready, the sandbox watch (one ordered stream)
    // has delivered both sandboxes above as well.
    const control = await sessionFor(ns, "bob", {});
    const controlUid = await claimFor(control, await uidOf("codeinterpreter", control));
    await readySandbox("sbx-control", control, controlUid, "127.0.9.4");
    await cache.waitFor(
      CI,
      ns,
      control,
      (obj) => (obj && readiness(obj).state === "ready" ? true : undefined),
      AbortSignal.timeout(15_000),
    );
    for (const name of [foreign, stale]) {
      const obj = cache.get(CI, ns, name);
      expect(obj).toBeDefined();
      expect(obj && readiness(obj).state).toBe("pending");
      expect(obj?.status?.podIP).toBeUndefined();
    }
  }, 30_000);
});
