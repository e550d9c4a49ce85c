import { describe, expect, test } from "bun:test";
import { effectiveActivityMs, shouldWriteActivity } from "./activity-policy";

const base = { nowMs: 100_000, intervalMs: 10_000 };

describe("activity writes", () => {
  test("work in flight counts as activity now, whatever the last request time", () => {
    expect(effectiveActivityMs({ lastActivityMs: 1_000, inFlight: 2 }, 100_000)).toBe(100_000);
    expect(effectiveActivityMs({ lastActivityMs: 90_000, inFlight: 0 }, 100_000)).toBe(90_000);
  });

  test("a report from the future is clamped to now", () => {
    expect(effectiveActivityMs({ lastActivityMs: 500_000, inFlight: 0 }, 100_000)).toBe(100_000);
  });

  test("the first activity of a session is always written", () => {
    expect(
      shouldWriteActivity({ ...base, recordedMs: undefined, activityMs: 99_000, lastWriteMs: undefined }),
    ).toBe(true);
  });

  test("at most one write per interval per session, however many reports arrive", () => {
    const recent = { ...base, recordedMs: 50_000, activityMs: 99_000 };
    expect(shouldWriteActivity({ ...recent, lastWriteMs: 95_000 })).toBe(false);
    expect(shouldWriteActivity({ ...recent, lastWriteMs: 90_000 })).toBe(true);
  });

  test("activity less than an interval newer than what is recorded is not worth a write", () => {
    expect(
      shouldWriteActivity({ ...base, recordedMs: 95_000, activityMs: 99_000, lastWriteMs: undefined }),
    ).toBe(false);
    expect(
      shouldWriteActivity({ ...base, recordedMs: 85_000, activityMs: 99_000, lastWriteMs: undefined }),
    ).toBe(true);
  });
});
