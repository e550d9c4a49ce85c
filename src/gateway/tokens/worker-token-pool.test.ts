import { afterEach, describe, expect, test } from "bun:test";
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { decodeJwt, decodeProtectedHeader, jwtVerify } from "jose";
import { silentLogger } from "../../log/logger";
import { type ActiveSigningKey, createTokenMinter, encodedJoseHeader } from "./token-minter";
import { createWorkerTokenPool, type WorkerTokenPool } from "./worker-token-pool";

const ISSUER = "agentland-gateway";
const target = { audience: "sbx/pod-a", sessionId: "ags-1" };

function keyPair(kid: string): { active: ActiveSigningKey; publicKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return { active: { kid, key: privateKey, encodedHeader: encodedJoseHeader(kid) }, publicKey };
}

const pools: WorkerTokenPool[] = [];
afterEach(() => {
  for (const p of pools.splice(0)) p.stop();
});

function setup(initial: ActiveSigningKey, maxAgeMs = 60_000) {
  let current = initial;
  let now = 0;
  let inline = 0;
  const keys = { current: () => current };
  const signer = createTokenMinter({
    keys,
    issuer: ISSUER,
    lifetimeMs: 60_000,
    clock: { now: () => Date.now() },
  });
  const pool = createWorkerTokenPool({
    inline: {
      mint(t) {
        inline++;
        return signer.mint(t);
      },
    },
    keys,
    issuer: ISSUER,
    lifetimeMs: 60_000,
    maxAgeMs,
    maxTargets: 100,
    now: () => now,
    log: silentLogger,
  });
  pools.push(pool);
  return {
    pool,
    inlineCount: () => inline,
    rotate: (next: ActiveSigningKey) => {
      current = next;
    },
    advance: (ms: number) => {
      now += ms;
    },
  };
}

/** Mints until a token comes from the worker (the inline count stays put), giving the worker time. */
async function workerToken(s: ReturnType<typeof setup>): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const before = s.inlineCount();
    const token = s.pool.mint(target);
    if (s.inlineCount() === before) return token;
    await Bun.sleep(5);
  }
  throw new Error("the worker never supplied a token");
}

describe("worker token pool", () => {
  test("tokens signed on the worker verify with jose, with the exact claims for their target", async () => {
    const { active, publicKey } = keyPair("k1");
    const s = setup(active);
    const token = await workerToken(s);
    const { payload, protectedHeader } = await jwtVerify(token, publicKey, {
      algorithms: ["EdDSA"],
      issuer: ISSUER,
      audience: target.audience,
    });
    expect(protectedHeader).toEqual({ alg: "EdDSA", kid: "k1", typ: "JWT" });
    expect(payload.sid).toBe(target.sessionId);
    expect(typeof payload.jti).toBe("string");
    expect((payload.exp as number) - (payload.iat as number)).toBe(60);
    expect(Math.abs((payload.iat as number) - Date.now() / 1000)).toBeLessThan(5);
  });

  test("no token is ever handed out twice, however fast they are taken", async () => {
    const { active } = keyPair("k1");
    const s = setup(active);
    const jtis = new Set<string>();
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 50; i++) jtis.add(decodeJwt(s.pool.mint(target)).jti as string);
      await Bun.sleep(2);
    }
    expect(jtis.size).toBe(1000);
    // Under a steady stream the worker takes over most of the signing.
    expect(s.inlineCount()).toBeLessThan(1000);
  });

  test("after a rotation only tokens signed with the new key are handed out", async () => {
    const first = keyPair("k1");
    const second = keyPair("k2");
    const s = setup(first.active);
    await workerToken(s);
    await Bun.sleep(20);
    s.rotate(second.active);
    for (let i = 0; i < 20; i++) {
      expect(decodeProtectedHeader(s.pool.mint(target)).kid).toBe("k2");
      await Bun.sleep(1);
    }
    const fromWorker = await workerToken(s);
    await jwtVerify(fromWorker, second.publicKey, { issuer: ISSUER, audience: target.audience });
  });

  test("a pooled token older than the age limit is never handed out", async () => {
    const { active } = keyPair("k1");
    const s = setup(active, 1000);
    await workerToken(s);
    await Bun.sleep(20);
    s.advance(1000);
    const before = s.inlineCount();
    s.pool.mint(target);
    expect(s.inlineCount()).toBe(before + 1);
  });

  test("tokens of a target nobody calls any more are dropped once too old", async () => {
    const { active } = keyPair("k1");
    const s = setup(active, 50);
    await workerToken(s);
    await eventuallyTrue(() => s.pool.pooled() > 0);
    s.advance(50);
    await eventuallyTrue(() => s.pool.pooled() === 0);
  });
});

async function eventuallyTrue(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await Bun.sleep(5);
  expect(check()).toBe(true);
}
