import { expect, test } from "bun:test";
import { manualClock } from "./testdata/manual-clock";
import { createWorkQueue } from "./work-queue";

test("10,000 adds of 100 keys: every key is processed after its last add, never concurrently with itself", async () => {
  const active = new Set<string>();
  const lastAdd = new Map<string, number>();
  const lastStart = new Map<string, number>();
  let seq = 0;
  let overlaps = 0;
  let runs = 0;
  const queue = createWorkQueue<string>({
    workers: 8,
    handler: async (key) => {
      if (active.has(key)) overlaps++;
      active.add(key);
      lastStart.set(key, ++seq);
      runs++;
      await Bun.sleep(Math.random() < 0.5 ? 0 : 1);
      active.delete(key);
    },
  });
  queue.start();
  for (let i = 0; i < 10_000; i++) {
    const key = `key-${i % 100}`;
    lastAdd.set(key, ++seq);
    queue.add(key);
    if (i % 250 === 0) await Bun.sleep(1);
  }
  while (queue.length > 0 || active.size > 0) await Bun.sleep(5);
  await queue.shutdown();
  expect(overlaps).toBe(0);
  expect(lastStart.size).toBe(100);
  for (const [key, added] of lastAdd) expect(lastStart.get(key) ?? 0).toBeGreaterThan(added);
  // Deduplication: far fewer runs than adds.
  expect(runs).toBeLessThan(10_000);
});

test("a key added while it runs is run once more afterwards, not twice at once", async () => {
  const starts: string[] = [];
  let release: () => void = () => {};
  const queue = createWorkQueue<string>({
    workers: 4,
    handler: async (key) => {
      starts.push(key);
      if (starts.length === 1) await new Promise<void>((r) => (release = r));
    },
  });
  queue.start();
  queue.add("a");
  await Bun.sleep(5);
  queue.add("a");
  queue.add("a");
  await Bun.sleep(5);
  expect(starts).toEqual(["a"]);
  release();
  await Bun.sleep(5);
  expect(starts).toEqual(["a", "a"]);
  await queue.shutdown();
});

test("per-key back-off doubles with each failure, is capped, and resets after a success", async () => {
  const clock = manualClock();
  let failing = true;
  const failuresSeen: number[] = [];
  const queue = createWorkQueue<string>({
    clock,
    backoff: { baseMs: 10, maxMs: 100 },
    handler: async () => {
      if (failing) throw new Error("boom");
    },
    onError: (_key, _err, n) => failuresSeen.push(n),
  });
  queue.start();
  queue.add("k");
  for (let i = 0; i < 6; i++) {
    await Bun.sleep(1);
    await clock.advance(100);
  }
  expect(clock.sleeps.slice(0, 6)).toEqual([10, 20, 40, 80, 100, 100]);
  expect(failuresSeen.slice(0, 6)).toEqual([1, 2, 3, 4, 5, 6]);
  failing = false;
  await clock.advance(100);
  await Bun.sleep(1);
  expect(queue.failures("k")).toBe(0);
  failing = true;
  clock.sleeps.length = 0;
  queue.add("k");
  await Bun.sleep(1);
  expect(clock.sleeps[0]).toBe(10);
  queue.forget("k");
  expect(queue.failures("k")).toBe(0);
  await queue.shutdown();
});

test("requeueAfter runs the key later; the earlier of two requeues wins; a handler can ask for one", async () => {
  const clock = manualClock();
  const runs: number[] = [];
  const queue = createWorkQueue<string>({
    clock,
    handler: async () => {
      runs.push(clock.monotonic());
      return runs.length === 1 ? { requeueAfterMs: 500 } : undefined;
    },
  });
  queue.start();
  queue.requeueAfter("k", 1_000);
  queue.requeueAfter("k", 300);
  queue.requeueAfter("k", 2_000);
  await clock.advance(299);
  expect(runs).toEqual([]);
  await clock.advance(1);
  await Bun.sleep(1);
  expect(runs).toEqual([300]);
  await clock.advance(500);
  await Bun.sleep(1);
  expect(runs).toEqual([300, 800]);
  await clock.advance(5_000);
  expect(runs).toEqual([300, 800]);
  await queue.shutdown();
});

test("shutdown lets in-flight runs finish, drops waiting keys and ignores new adds", async () => {
  const finished: string[] = [];
  const started: string[] = [];
  const queue = createWorkQueue<string>({
    workers: 2,
    handler: async (key) => {
      started.push(key);
      await Bun.sleep(30);
      finished.push(key);
    },
  });
  queue.start();
  for (const k of ["a", "b", "c", "d"]) queue.add(k);
  await Bun.sleep(5);
  await queue.shutdown();
  queue.add("e");
  await Bun.sleep(40);
  expect(started).toEqual(["a", "b"]);
  expect(finished.sort()).toEqual(["a", "b"]);
});

test("shutdown aborts the runs' signal at its deadline", async () => {
  let aborted = false;
  const queue = createWorkQueue<string>({
    handler: (_key, signal) =>
      new Promise<void>((resolve) =>
        signal.addEventListener("abort", () => {
          aborted = true;
          resolve();
        }),
      ),
  });
  queue.start();
  queue.add("stuck");
  await Bun.sleep(5);
  await queue.shutdown(20);
  expect(aborted).toBe(true);
});
