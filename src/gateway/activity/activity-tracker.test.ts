import { describe, expect, test } from "bun:test";
import { silentLogger } from "../../log/logger";
import type { SessionActivityReport } from "../agentcore/agentcore-client";
import { createActivityTracker } from "./activity-tracker";

function setup(answer: (batch: readonly SessionActivityReport[]) => string[] | Error = () => []) {
  let now = 1_000;
  const batches: SessionActivityReport[][] = [];
  const unknown: string[] = [];
  const tracker = createActivityTracker({
    reporter: "gw-1",
    intervalMs: 1_000,
    clock: { now: () => now },
    send: async (_reporter, batch) => {
      batches.push([...batch]);
      const result = answer(batch);
      if (result instanceof Error) throw result;
      return result;
    },
    onUnknown: (id) => unknown.push(id),
    log: silentLogger,
  });
  const advance = (ms: number) => {
    now += ms;
  };
  return { tracker, batches, unknown, advance };
}

const s1 = { id: "ci-1", namespace: "ns" };

describe("activity tracker", () => {
  test("many requests in one interval become one report entry per session", async () => {
    const { tracker, batches, advance } = setup();
    for (let i = 0; i < 100; i++) tracker.begin(s1)();
    advance(10);
    tracker.begin({ id: "ci-2", namespace: "ns" })();
    await tracker.flush();
    expect(batches).toHaveLength(1);
    expect(batches[0]?.map((b) => [b.id, b.inFlight])).toEqual([
      ["ci-1", 0],
      ["ci-2", 0],
    ]);
    await tracker.flush();
    expect(batches).toHaveLength(1);
  });

  test("a session with work in flight is reported busy, as of now, every interval until the work ends", async () => {
    const { tracker, batches, advance } = setup();
    const end = tracker.begin(s1);
    for (let i = 0; i < 3; i++) {
      advance(1_000);
      await tracker.flush();
    }
    expect(batches.map((b) => b[0]?.inFlight)).toEqual([1, 1, 1]);
    expect(batches.map((b) => b[0]?.lastActivityAtMs)).toEqual([2_000, 3_000, 4_000]);
    advance(500);
    end();
    end();
    await tracker.flush();
    expect(batches.at(-1)).toEqual([{ id: "ci-1", namespace: "ns", lastActivityAtMs: 4_500, inFlight: 0 }]);
    await tracker.flush();
    expect(batches).toHaveLength(4);
  });

  test("a failed report is sent again with the next batch", async () => {
    let fail = true;
    const { tracker, batches } = setup(() => (fail ? new Error("agentcore down") : []));
    tracker.begin(s1)();
    await tracker.flush();
    fail = false;
    await tracker.flush();
    expect(batches.map((b) => b.map((e) => e.id))).toEqual([["ci-1"], ["ci-1"]]);
  });

  test("sessions AgentCore no longer knows are forgotten", async () => {
    const { tracker, batches, unknown } = setup(() => ["ci-1"]);
    tracker.begin(s1);
    await tracker.flush();
    await tracker.flush();
    expect(unknown).toEqual(["ci-1"]);
    expect(batches).toHaveLength(1);
  });
});
