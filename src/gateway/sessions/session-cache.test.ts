import { describe, expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { SessionSchema } from "../../gen/agentland/agentcore/v1/agentcore_pb";
import { createSessionCache } from "./session-cache";

function setup() {
  let now = 0;
  const cache = createSessionCache({ ttlMs: 1000, maxEntries: 3, now: () => now });
  const advance = (ms: number) => {
    now += ms;
  };
  return { cache, advance };
}

const session = (id: string) => create(SessionSchema, { id, phase: "Ready" });

describe("session cache", () => {
  test("a hit never hands one principal's session to another", () => {
    const { cache } = setup();
    cache.put("alice", session("s1"));
    expect(cache.get("alice", "s1")?.session.id).toBe("s1");
    expect(cache.get("bob", "s1")).toBeUndefined();
  });

  test("entries ask for a refresh after half the TTL, expire after it, and the oldest goes first when full", () => {
    const { cache, advance } = setup();
    cache.put("a", session("s1"));
    expect(cache.get("a", "s1")?.refresh).toBe(false);
    advance(500);
    expect(cache.get("a", "s1")?.refresh).toBe(true);
    advance(499);
    expect(cache.get("a", "s1")).toBeDefined();
    advance(1);
    expect(cache.get("a", "s1")).toBeUndefined();
    for (const id of ["s2", "s3", "s4", "s5"]) cache.put("a", session(id));
    expect(cache.get("a", "s2")).toBeUndefined();
    expect(cache.get("a", "s5")).toBeDefined();
  });

  test("a buried session stays dead even if a stale read would put it back", () => {
    const { cache, advance } = setup();
    cache.put("a", session("s1"));
    cache.bury("s1");
    expect(cache.get("a", "s1")).toBeUndefined();
    expect(cache.isBuried("s1")).toBe(true);
    advance(60_000);
    expect(cache.isBuried("s1")).toBe(false);
  });
});
