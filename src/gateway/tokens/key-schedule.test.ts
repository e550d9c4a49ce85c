import { describe, expect, test } from "bun:test";
import {
  type KeyPolicy,
  type KeySetState,
  planKeys,
  publicJwks,
  type StoredKey,
  signingKeyAt,
} from "./key-schedule";

const policy: KeyPolicy = {
  rotationIntervalMs: 1_000_000,
  propagationDelayMs: 15_000,
  tokenLifetimeMs: 60_000,
  clockSkewMs: 5_000,
};

const key = (kid: string, createdAt: number, activateAt = createdAt): StoredKey => ({
  kid,
  privateJwk: { kty: "OKP", crv: "Ed25519", x: `x-${kid}`, d: `d-${kid}` },
  createdAt,
  activateAt,
});

/** Applies plans step by step the way the signing-key store does. */
function step(state: KeySetState, now: number, force = false): KeySetState {
  const plan = planKeys(state, now, policy, force);
  const kept = state.keys.filter((k) => !plan.drop.includes(k.kid));
  const added = plan.addKeyActivatingAt === undefined ? [] : [key(`k${now}`, now, plan.addKeyActivatingAt)];
  return { keys: [...kept, ...added] };
}

describe("key schedule", () => {
  test("an empty set gets a first key usable at once", () => {
    const s = step({ keys: [] }, 1000);
    expect(s.keys).toHaveLength(1);
    expect(signingKeyAt(s, 1000)?.kid).toBe("k1000");
  });

  test("a new key is published before it signs, and the old key outlives every token it signed", () => {
    let s: KeySetState = { keys: [key("old", 0)] };
    const t0 = policy.rotationIntervalMs;
    s = step(s, t0);
    expect(s.keys.map((k) => k.kid)).toEqual(["old", `k${t0}`]);
    // During propagation the old key still signs; the new one is already in the JWKS.
    expect(signingKeyAt(s, t0 + policy.propagationDelayMs - 1)?.kid).toBe("old");
    expect(publicJwks(s).keys.map((k) => k.kid)).toEqual(["old", `k${t0}`]);
    const switchAt = t0 + policy.propagationDelayMs;
    expect(signingKeyAt(s, switchAt)?.kid).toBe(`k${t0}`);
    // The last token signed with "old" (just before the switch) must still verify until it expires.
    const lastOldTokenExpiry = switchAt - 1 + policy.tokenLifetimeMs;
    for (let now = switchAt; now <= lastOldTokenExpiry + policy.clockSkewMs; now += 1000) {
      s = step(s, now);
      expect(s.keys.map((k) => k.kid)).toContain("old");
    }
    s = step(s, switchAt + policy.tokenLifetimeMs + policy.clockSkewMs);
    expect(s.keys.map((k) => k.kid)).toEqual([`k${t0}`]);
  });

  test("nothing changes between rotations", () => {
    const s: KeySetState = { keys: [key("a", 0)] };
    expect(planKeys(s, policy.rotationIntervalMs - 1, policy)).toEqual({ drop: [] });
  });

  test("an on-demand rotation adds a key unless one is still propagating", () => {
    const s = step({ keys: [key("a", 0)] }, 10, true);
    expect(s.keys).toHaveLength(2);
    expect(planKeys(s, 11, policy, true).addKeyActivatingAt).toBeUndefined();
    expect(planKeys(s, 10 + policy.propagationDelayMs, policy, true).addKeyActivatingAt).toBeDefined();
  });

  test("the public JWKS never contains private material and names alg, use and kid", () => {
    const jwks = publicJwks({ keys: [key("b", 2), key("a", 1)] });
    expect(jwks.keys.map((k) => k.kid)).toEqual(["a", "b"]);
    for (const k of jwks.keys) {
      expect(k).toEqual({
        kty: "OKP",
        crv: "Ed25519",
        x: `x-${k.kid}`,
        kid: k.kid as string,
        alg: "EdDSA",
        use: "sig",
      });
    }
  });
});
