import { expect, test } from "bun:test";
import { createCrashBackoff } from "./crash-backoff";

test("restarts: the first at once, then 10 s doubling to the 5 min cap; a long run starts over", () => {
  const b = createCrashBackoff({ baseMs: 10_000, maxMs: 300_000 });
  const delays = Array.from({ length: 8 }, () => b.next(1000));
  expect(delays).toEqual([0, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
  expect(b.next(601_000)).toBe(0);
  expect(b.next(1000)).toBe(10_000);
});
