import { afterAll, describe, expect, test } from "bun:test";
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { testCluster } from "../../../e2e/harness/test-cluster";
import { type Clock, systemClock } from "../../kube/clock";
import { createKubeClient } from "../../kube/kube-client";
import { loadKubeconfigFile } from "../../kube/kube-config";
import { CONFIG_MAPS, SECRETS } from "../../kube/resources";
import { silentLogger } from "../../log/logger";
import type { KeyPolicy } from "./key-schedule";
import { decodeKeySet, ROTATE_ANNOTATION } from "./signing-key-secret";
import { createSigningKeyStore, type SigningKeyStore } from "./signing-key-store";
import { createTokenMinter } from "./token-minter";

const cluster = testCluster();
const kube = createKubeClient(loadKubeconfigFile(cluster.kubeconfig));
const policy: KeyPolicy = {
  rotationIntervalMs: 3_600_000,
  propagationDelayMs: 15_000,
  tokenLifetimeMs: 60_000,
  clockSkewMs: 5_000,
};
const stores: SigningKeyStore[] = [];
afterAll(() => {
  for (const s of stores) s.stop();
});

function manualClock(start = Date.now()): Clock & { advance(ms: number): void } {
  let now = start;
  return {
    ...systemClock,
    now: () => now,
    advance(ms) {
      now += ms;
    },
  };
}

async function setup(sandboxCount = 2) {
  const home = await cluster.createNamespace("gw-keys");
  const sandboxes = await Promise.all(
    Array.from({ length: sandboxCount }, () => cluster.createNamespace("gw-sbx")),
  );
  return { home, sandboxes };
}

function store(home: string, sandboxes: string[], clock: Clock = systemClock): SigningKeyStore {
  const s = createSigningKeyStore({
    kube,
    namespace: home,
    secretName: "agentland-gateway-signing-keys",
    jwksConfigMap: "agentland-sandbox-jwks",
    sandboxNamespaces: sandboxes,
    policy,
    clock,
    log: silentLogger,
    syncIntervalMs: 3_600_000,
  });
  stores.push(s);
  return s;
}

async function publishedJwks(namespace: string) {
  const cm = await kube.resource(CONFIG_MAPS).get("agentland-sandbox-jwks", { namespace });
  return JSON.parse(cm.data?.["jwks.json"] ?? "null") as { keys: Record<string, unknown>[] };
}

describe("signing key store (real apiserver)", () => {
  test("replicas starting at the same moment end up with one shared key, published in every sandbox namespace", async () => {
    const { home, sandboxes } = await setup();
    const replicas = Array.from({ length: 4 }, () => store(home, sandboxes));
    await Promise.all(replicas.map((r) => r.sync()));
    const secret = await kube.resource(SECRETS).get("agentland-gateway-signing-keys", { namespace: home });
    const stored = decodeKeySet(secret);
    expect(stored.keys).toHaveLength(1);
    for (const r of replicas) expect(r.kids()).toEqual([stored.keys[0]?.kid as string]);
    for (const ns of sandboxes) {
      const jwks = await publishedJwks(ns);
      expect(jwks.keys).toEqual([
        {
          kty: "OKP",
          crv: "Ed25519",
          x: stored.keys[0]?.privateJwk.x,
          kid: stored.keys[0]?.kid,
          alg: "EdDSA",
          use: "sig",
        },
      ]);
      expect(JSON.stringify(jwks)).not.toContain('"d"');
    }
  });

  test("a minted token verifies against the published JWKS and names the pod, session and issuer", async () => {
    const { home, sandboxes } = await setup(1);
    const s = store(home, sandboxes);
    await s.sync();
    const minter = createTokenMinter({
      keys: s,
      issuer: "agentland-gateway",
      lifetimeMs: 60_000,
      clock: systemClock,
    });
    const token = minter.mint({ audience: `${sandboxes[0]}/pod-a`, sessionId: "sess-1" });
    const jwks = createLocalJWKSet((await publishedJwks(sandboxes[0] as string)) as never);
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      algorithms: ["EdDSA"],
      issuer: "agentland-gateway",
      audience: `${sandboxes[0]}/pod-a`,
    });
    expect(protectedHeader.kid).toBe(s.kids()[0] as string);
    expect(payload.sid).toBe("sess-1");
    expect((payload.exp as number) - (payload.iat as number)).toBeLessThanOrEqual(60);
    expect(typeof payload.jti).toBe("string");
    const other = minter.mint({ audience: `${sandboxes[0]}/pod-a`, sessionId: "sess-1" });
    expect((await jwtVerify(other, jwks)).payload.jti).not.toBe(payload.jti);
  });

  test("rotation: the new key is published before it signs and the old one stays until its tokens expired", async () => {
    const { home, sandboxes } = await setup(1);
    const clock = manualClock();
    const s = store(home, sandboxes, clock);
    const follower = store(home, sandboxes, clock);
    await s.sync();
    const [oldKid] = s.kids();
    await s.rotate();
    const kids = s.kids();
    expect(kids).toHaveLength(2);
    const newKid = kids.find((k) => k !== oldKid) as string;
    await follower.sync();
    expect(follower.kids()).toEqual(kids);
    expect((await publishedJwks(sandboxes[0] as string)).keys.map((k) => k.kid).sort()).toEqual(
      [...kids].sort(),
    );
    expect(s.current()?.kid).toBe(oldKid as string);
    clock.advance(policy.propagationDelayMs);
    expect(s.current()?.kid).toBe(newKid);
    expect(follower.current()?.kid).toBe(newKid);
    clock.advance(policy.tokenLifetimeMs);
    await s.sync();
    expect(s.kids()).toEqual(kids);
    clock.advance(policy.clockSkewMs);
    await s.sync();
    expect(s.kids()).toEqual([newKid]);
    expect((await publishedJwks(sandboxes[0] as string)).keys.map((k) => k.kid)).toEqual([newKid]);
  });

  test("annotating the Secret asks for a rotation exactly once", async () => {
    const { home, sandboxes } = await setup(1);
    const s = store(home, sandboxes);
    await s.sync();
    const annotate = await cluster.kubectl([
      "-n",
      home,
      "annotate",
      "secret",
      "agentland-gateway-signing-keys",
      `${ROTATE_ANNOTATION}=first`,
      "--overwrite",
    ]);
    expect(annotate.code).toBe(0);
    await s.sync();
    expect(s.kids()).toHaveLength(2);
    await s.sync();
    expect(s.kids()).toHaveLength(2);
  });

  test("a token is signed with the kid the sandbox can look up", async () => {
    const { home, sandboxes } = await setup(1);
    const s = store(home, sandboxes);
    await s.sync();
    const minter = createTokenMinter({ keys: s, issuer: "gw", lifetimeMs: 30_000, clock: systemClock });
    const header = decodeProtectedHeader(minter.mint({ audience: "a/b", sessionId: "s" }));
    expect(header).toEqual({ alg: "EdDSA", kid: s.kids()[0] as string, typ: "JWT" });
  });
});
