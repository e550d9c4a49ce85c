import { describe, expect, test } from "bun:test";
import { createReplayCache } from "./replay-cache";

function clockAt(start: number) {
  const clock = { t: start, now: () => clock.t };
  return clock;
}

describe("replay cache", () => {
  test("a jti is accepted once and refused while its token could still be valid", () => {
    const clock = clockAt(1_000);
    const cache = createReplayCache({ clock, capacity: 10 });
    expect(cache.claim("a", 5_000)).toBe("fresh");
    expect(cache.claim("a", 5_000)).toBe("replayed");
    clock.t = 4_999;
    expect(cache.claim("a", 5_000)).toBe("replayed");
  });

  test("entries are forgotten once their token expired, keeping memory bounded", () => {
    const clock = clockAt(0);
    const cache = createReplayCache({ clock, capacity: 10 });
    for (let i = 0; i < 5; i++) cache.claim(`j${i}`, 100 + i);
    clock.t = 200;
    cache.claim("new", 1_000);
    expect(cache.size).toBe(1);
  });

  test("when full of live entries it refuses new tokens rather than forgetting old ones", () => {
    const clock = clockAt(0);
    const cache = createReplayCache({ clock, capacity: 2 });
    expect(cache.claim("a", 1_000)).toBe("fresh");
    expect(cache.claim("b", 1_000)).toBe("fresh");
    expect(cache.claim("c", 1_000)).toBe("full");
    expect(cache.claim("a", 1_000)).toBe("replayed");
    clock.t = 1_000;
    expect(cache.claim("c", 2_000)).toBe("fresh");
  });
});
