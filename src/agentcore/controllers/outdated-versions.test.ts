import { describe, expect, test } from "bun:test";
import { systemClock } from "../../kube/clock";
import { createOutdatedVersions } from "./outdated-versions";

function fixture(ttlMs = 1_000) {
  let now = 0;
  const clock = { now: () => now, monotonic: () => now, sleep: systemClock.sleep };
  const advance = (ms: number) => {
    now += ms;
  };
  return { versions: createOutdatedVersions(clock, ttlMs), advance };
}

describe("outdated versions", () => {
  test("a marked version is outdated while the cache still shows exactly it", () => {
    const { versions } = fixture();
    versions.mark("ns/a", "10");
    expect(versions.isOutdated("ns/a", "10")).toBe(true);
    expect(versions.isOutdated("ns/a", "10")).toBe(true);
    expect(versions.isOutdated("ns/b", "10")).toBe(false);
  });

  test("the cache showing any other version ends the mark: that version is judged afresh", () => {
    const { versions } = fixture();
    versions.mark("ns/a", "10");
    expect(versions.isOutdated("ns/a", "11")).toBe(false);
    // The entry is gone: even the old version is no longer reported (the cache has moved past it).
    expect(versions.isOutdated("ns/a", "10")).toBe(false);
  });

  test("a mark lasts at most its time to live, so a write that never landed costs little", () => {
    const { versions, advance } = fixture(1_000);
    versions.mark("ns/a", "10");
    advance(999);
    expect(versions.isOutdated("ns/a", "10")).toBe(true);
    advance(1);
    expect(versions.isOutdated("ns/a", "10")).toBe(false);
  });

  test("expired marks are dropped when new ones are made: the map does not grow with every pick", () => {
    const { versions, advance } = fixture(1_000);
    for (let i = 0; i < 100; i++) versions.mark(`ns/s${i}`, "1");
    advance(1_000);
    versions.mark("ns/new", "1");
    for (let i = 0; i < 100; i++) expect(versions.isOutdated(`ns/s${i}`, "1")).toBe(false);
    expect(versions.isOutdated("ns/new", "1")).toBe(true);
  });

  test("a key marked again lasts from its latest mark; an older mark of another key still expires", () => {
    const { versions, advance } = fixture(1_000);
    versions.mark("ns/a", "10");
    versions.mark("ns/b", "10");
    advance(600);
    versions.mark("ns/a", "11");
    advance(600);
    versions.mark("ns/c", "10");
    expect(versions.isOutdated("ns/b", "10")).toBe(false);
    expect(versions.isOutdated("ns/a", "11")).toBe(true);
  });

  test("an unknown version (no resourceVersion in the cache) is never outdated", () => {
    const { versions } = fixture();
    versions.mark("ns/a", "10");
    expect(versions.isOutdated("ns/a", undefined)).toBe(false);
  });
});
