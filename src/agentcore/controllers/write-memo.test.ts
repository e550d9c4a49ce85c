import { describe, expect, test } from "bun:test";
import { systemClock } from "../../kube/clock";
import { createExpectations } from "./expectations";
import { createWriteMemo } from "./write-memo";

const obj = (rv: string, tag: string) => ({ metadata: { resourceVersion: rv }, tag });

describe("write memo", () => {
  test("a reconcile sees its own write while the cache still shows the replaced version", () => {
    const memo = createWriteMemo(systemClock);
    const before = obj("1", "old");
    const after = obj("2", "new");
    memo.remember("k", before, after);
    expect(memo.latest("k", before)).toBe(after);
    expect(memo.latest("k", before)).toBe(after);
  });

  test("once the cache shows any other version, the cache wins", () => {
    const memo = createWriteMemo(systemClock);
    memo.remember("k", obj("1", "old"), obj("2", "ours"));
    const theirs = obj("3", "theirs");
    expect(memo.latest("k", theirs)).toBe(theirs);
    expect(memo.latest("k", obj("1", "old"))?.tag).toBe("old"); // forgotten: no stale resurrection
  });

  test("creates and deletes are seen before the cache shows them", () => {
    const memo = createWriteMemo(systemClock);
    const created = obj("5", "created");
    memo.remember("c", undefined, created);
    expect(memo.latest("c", undefined)).toBe(created);
    memo.remember("d", obj("7", "doomed"), undefined);
    expect(memo.latest("d", obj("7", "doomed"))).toBeUndefined();
  });

  test("an object written again after its create is not served once the cache shows it deleted", () => {
    const memo = createWriteMemo(systemClock);
    const created = obj("5", "created");
    memo.remember("s", undefined, created);
    // A status write lands, but the object is deleted right after (the delete raced the write).
    memo.remember("s", created, obj("6", "status written"));
    expect(memo.latest("s", undefined)).toBeUndefined();
    expect(memo.latest("s", undefined)).toBeUndefined();
  });

  test("a write after a delete was noted does not bring the deleted object back", () => {
    const memo = createWriteMemo(systemClock);
    const created = obj("5", "created");
    memo.remember("s", undefined, created);
    memo.remember("s", created, undefined);
    memo.remember("s", created, obj("6", "status written before the delete"));
    expect(memo.latest("s", undefined)).toBeUndefined();
  });
});

describe("expectations", () => {
  test("a creation is pending until the cache shows it; a deletion until the cache drops it", () => {
    const e = createExpectations(systemClock);
    const cache = new Set<string>(["x"]);
    e.expectCreate("pool", "a");
    e.expectDelete("pool", "x");
    expect(e.pendingCreates("pool", (n) => cache.has(n))).toEqual(["a"]);
    expect(e.pendingDeletes("pool", (n) => cache.has(n))).toEqual(["x"]);
    cache.add("a");
    cache.delete("x");
    expect(e.pendingCreates("pool", (n) => cache.has(n))).toEqual([]);
    expect(e.pendingDeletes("pool", (n) => cache.has(n))).toEqual([]);
  });

  test("expectations expire, so a write the watch never shows cannot wedge a pool", () => {
    let now = 0;
    const clock = { now: () => now, monotonic: () => now, sleep: systemClock.sleep };
    const e = createExpectations(clock, 1_000);
    e.expectCreate("pool", "a");
    now = 1_001;
    expect(e.pendingCreates("pool", () => false)).toEqual([]);
  });
});
