import { describe, expect, test } from "bun:test";
import { createTokenPool } from "./token-pool";

function setup() {
  let now = 0;
  let minted = 0;
  const pending: (() => void)[] = [];
  const pool = createTokenPool({
    minter: { mint: (t) => `${t.audience}|${t.sessionId}|${++minted}` },
    perTarget: 2,
    maxAgeMs: 1000,
    maxTargets: 2,
    now: () => now,
    schedule: (refill) => pending.push(refill),
  });
  /** Runs the refills the pool scheduled (what its timer would do between requests). */
  const tick = async () => {
    for (const refill of pending.splice(0)) refill();
  };
  const advance = (ms: number) => {
    now += ms;
  };
  return { pool, advance, tick, minted: () => minted };
}
const a = { audience: "ns/pod-a", sessionId: "s1" };

describe("token pool", () => {
  test("every call returns a token never handed out before, for exactly that target", async () => {
    const { pool, tick } = setup();
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const token = pool.mint(i % 2 === 0 ? a : { audience: "ns/pod-b", sessionId: "s2" });
      expect(seen.has(token)).toBe(false);
      seen.add(token);
      expect(token.startsWith(i % 2 === 0 ? "ns/pod-a|s1|" : "ns/pod-b|s2|")).toBe(true);
      if (i % 3 === 0) await tick();
    }
  });

  test("after a request, the next one is served from tokens minted in the background", async () => {
    const { pool, tick, minted } = setup();
    pool.mint(a);
    expect(minted()).toBe(1);
    await tick();
    expect(minted()).toBe(3);
    pool.mint(a);
    expect(minted()).toBe(3);
  });

  test("tokens older than the limit are never used", async () => {
    const { pool, advance, tick, minted } = setup();
    pool.mint(a);
    await tick();
    advance(1000);
    const token = pool.mint(a);
    expect(token).toBe(`ns/pod-a|s1|${minted()}`);
    expect(minted()).toBe(4);
  });
});
