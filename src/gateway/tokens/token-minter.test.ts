import { describe, expect, test } from "bun:test";
import { generateKeyPairSync } from "node:crypto";
import { decodeJwt, jwtVerify } from "jose";
import { createTokenMinter, encodedJoseHeader } from "./token-minter";

const { privateKey, publicKey } = generateKeyPairSync("ed25519");
const NOW_MS = 1_800_000_000_500;

function minter(issuer = "agentland-gateway") {
  return createTokenMinter({
    keys: { current: () => ({ kid: "k1", key: privateKey, encodedHeader: encodedJoseHeader("k1") }) },
    issuer,
    lifetimeMs: 60_000,
    clock: { now: () => NOW_MS },
  });
}

async function verified(token: string, issuer: string, audience: string) {
  const { payload, protectedHeader } = await jwtVerify(token, publicKey, {
    algorithms: ["EdDSA"],
    issuer,
    audience,
    currentDate: new Date(NOW_MS),
  });
  return { payload, protectedHeader };
}

describe("token minter", () => {
  test("every fixed-claims length (padding 0, 1 and 2) yields a token jose verifies with exact claims", async () => {
    const m = minter();
    for (let extra = 0; extra < 6; extra++) {
      const audience = `sbx/pod-${"x".repeat(extra)}`;
      const sessionId = `ags-${"y".repeat(extra * 2)}`;
      const token = m.mint({ audience, sessionId });
      const { payload, protectedHeader } = await verified(token, "agentland-gateway", audience);
      expect(protectedHeader).toEqual({ alg: "EdDSA", kid: "k1", typ: "JWT" });
      expect(Object.keys(payload)).toEqual(["iss", "aud", "sid", "jti", "iat", "exp"]);
      expect(payload.sid).toBe(sessionId);
      expect(payload.iat).toBe(Math.floor(NOW_MS / 1000));
      expect((payload.exp as number) - (payload.iat as number)).toBe(60);
    }
  });

  test("a token for one pod and session is not a token for any other", async () => {
    const m = minter();
    const token = m.mint({ audience: "sbx/pod-a", sessionId: "s1" });
    await expect(verified(token, "agentland-gateway", "sbx/pod-b")).rejects.toThrow();
    expect(decodeJwt(m.mint({ audience: "sbx/pod-a", sessionId: "s2" })).sid).toBe("s2");
  });

  test("each token carries its own jti, even for the same target in the same second", () => {
    const m = minter();
    const ids = new Set<unknown>();
    for (let i = 0; i < 100; i++) ids.add(decodeJwt(m.mint({ audience: "sbx/pod-a", sessionId: "s1" })).jti);
    expect(ids.size).toBe(100);
  });

  test("claims needing JSON escaping or multi-byte characters still encode exactly", async () => {
    const issuer = 'gw "prod" \\ é';
    const token = minter(issuer).mint({ audience: "ns/pöd", sessionId: 's"1' });
    const { payload } = await verified(token, issuer, "ns/pöd");
    expect(payload.sid).toBe('s"1');
  });

  test("a lifetime over 60 s is refused", () => {
    expect(() =>
      createTokenMinter({
        keys: { current: () => undefined },
        issuer: "gw",
        lifetimeMs: 61_000,
        clock: { now: () => 0 },
      }),
    ).toThrow("between 1s and 60s");
  });
});
