import { expect, test } from "bun:test";
import { createRateLimiter } from "./rate-limiter";
import { manualClock } from "./testdata/manual-clock";

test("a burst passes at once, then requests are spaced at 1/qps", async () => {
  const clock = manualClock();
  const limiter = createRateLimiter({ qps: 10, burst: 3, clock });
  const done: number[] = [];
  const takes = Array.from({ length: 6 }, (_, i) => limiter.take().then(() => done.push(i)));
  await Bun.sleep(0);
  expect(done).toEqual([0, 1, 2]);
  await clock.advance(100);
  expect(done).toEqual([0, 1, 2, 3]);
  await clock.advance(200);
  await Promise.all(takes);
  expect(done).toEqual([0, 1, 2, 3, 4, 5]);
  expect(clock.sleeps.map(Math.round)).toEqual([100, 200, 300]);
});

test("an aborted wait gives its token back", async () => {
  const clock = manualClock();
  const limiter = createRateLimiter({ qps: 1, burst: 1, clock });
  await limiter.take();
  const ctl = new AbortController();
  const waiting = limiter.take(ctl.signal);
  ctl.abort(new Error("caller gave up"));
  await expect(waiting).rejects.toThrow("caller gave up");
  await clock.advance(1000);
  let passed = false;
  const next = limiter.take().then(() => {
    passed = true;
  });
  await Bun.sleep(0);
  expect(passed).toBe(true);
  await next;
});

test("qps 0 means unlimited", async () => {
  const limiter = createRateLimiter({ qps: 0, burst: 0 });
  await Promise.all(Array.from({ length: 1000 }, () => limiter.take()));
});

test("the limiter counts the requests it held back and for how long", async () => {
  const clock = manualClock();
  const limiter = createRateLimiter({ qps: 10, burst: 2, clock });
  const takes = Array.from({ length: 4 }, () => limiter.take());
  await Bun.sleep(0);
  expect(limiter.stats()).toEqual({ taken: 2, delayed: 0, delayedMs: 0 });
  await clock.advance(200);
  await Promise.all(takes);
  const { taken, delayed, delayedMs } = limiter.stats();
  expect({ taken, delayed }).toEqual({ taken: 4, delayed: 2 });
  expect(Math.round(delayedMs)).toBe(300); // 100 ms + 200 ms
});
