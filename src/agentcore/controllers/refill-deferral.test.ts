import { describe, expect, test } from "bun:test";
import { type HoldLimits, type HoldState, REFILL_RECHECK_MS, refillHold } from "./refill-deferral";

const limits = { maxMs: 5_000, quietMs: 1_000, burstAdoptions: 8 };

/** Feeds a sequence of looks through the decision, returning each delay. */
function run(
  looks: readonly { now: number; ready: number; claimWaiting?: boolean }[],
  given: HoldLimits = limits,
): number[] {
  let state: HoldState | undefined;
  return looks.map((l) => {
    const r = refillHold(state, { now: l.now, ready: l.ready, claimWaiting: l.claimWaiting ?? false }, given);
    state = r.state;
    return r.delayMs;
  });
}

describe("refill hold", () => {
  test("a single claim taking one member is no burst: the pool refills at once", () => {
    expect(
      run([
        { now: 0, ready: 3 },
        { now: 100, ready: 2 },
      ]),
    ).toEqual([0, 0]);
  });

  test("while claims bind and the pool's Ready members keep going, the refill waits", () => {
    const delays = run([
      { now: 0, ready: 200, claimWaiting: true },
      { now: 50, ready: 190, claimWaiting: true },
      { now: 3_000, ready: 120, claimWaiting: true },
      { now: 7_000, ready: 60, claimWaiting: true },
    ]);
    expect(delays).toEqual([REFILL_RECHECK_MS, REFILL_RECHECK_MS, REFILL_RECHECK_MS, REFILL_RECHECK_MS]);
  });

  test("claims that make no progress hold the refill no longer than the limit", () => {
    const delays = run([
      { now: 0, ready: 5, claimWaiting: true },
      { now: 4_999, ready: 5, claimWaiting: true },
      { now: 5_000, ready: 5, claimWaiting: true },
    ]);
    expect(delays).toEqual([REFILL_RECHECK_MS, REFILL_RECHECK_MS, 0]);
  });

  test("claims waiting on a pool with no Ready member get the refill at once", () => {
    expect(run([{ now: 0, ready: 0, claimWaiting: true }])).toEqual([0]);
  });

  test("a burst that empties the pool while claims still wait for it: the refill goes at once", () => {
    const delays = run([
      { now: 0, ready: 20, claimWaiting: true },
      { now: 100, ready: 0, claimWaiting: true },
    ]);
    expect(delays).toEqual([REFILL_RECHECK_MS, 0]);
  });

  test("after a burst of adoptions the refill waits until the pool has been quiet, then goes", () => {
    const delays = run([
      { now: 0, ready: 200 },
      { now: 100, ready: 150 }, // burst: 50 taken
      { now: 600, ready: 100 }, // still going
      { now: 1_000, ready: 100 },
      { now: 1_600, ready: 100 }, // quiet for 1 s
    ]);
    expect(delays[0]).toBe(0);
    expect(delays[1]).toBe(1_000);
    expect(delays[2]).toBe(1_000);
    expect(delays[3]).toBe(600);
    expect(delays[4]).toBe(0);
  });

  test("a pool whose last members were just taken by a burst still waits for the sessions to settle", () => {
    const delays = run([
      { now: 0, ready: 200 },
      { now: 100, ready: 0 },
      { now: 500, ready: 0 },
    ]);
    expect(delays.slice(1)).toEqual([1_000, 600]);
  });

  test("a never-ending stream of adoptions cannot hold the refill longer than the limit", () => {
    const looks = [{ now: 0, ready: 1_000 }];
    for (let t = 200, ready = 990; t <= 6_000; t += 200, ready -= 10) looks.push({ now: t, ready });
    const delays = run(looks);
    const released = looks.findIndex((_l, i) => i > 0 && delays[i] === 0);
    expect(looks[released]?.now).toBe(5_200);
    expect(delays.slice(1, released).every((d) => d > 0)).toBe(true);
  });

  test("a burst may hold longer than claims without progress, each up to its own limit", () => {
    const both = { ...limits, burstMaxMs: 15_000 };
    const looks = [{ now: 0, ready: 1_000 }];
    for (let t = 200, ready = 990; t <= 16_000; t += 200, ready -= 10) looks.push({ now: t, ready });
    const delays = run(looks, both);
    const released = looks.findIndex((_l, i) => i > 0 && delays[i] === 0);
    expect(looks[released]?.now).toBe(15_200); // the burst began with the first look that saw it, at 200 ms
    const stuck = run(
      [
        { now: 0, ready: 5, claimWaiting: true },
        { now: 5_000, ready: 5, claimWaiting: true },
      ],
      both,
    );
    expect(stuck).toEqual([REFILL_RECHECK_MS, 0]);
  });
});
