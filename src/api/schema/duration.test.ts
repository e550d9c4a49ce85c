import { describe, expect, test } from "bun:test";
import { durationToMs, parseDurationNs } from "./duration";

describe("parseDurationNs reads durations as Go's time.ParseDuration (CEL duration()) does", () => {
  const cases: [string, number][] = [
    ["30s", 30e9],
    ["15m", 900e9],
    ["2h", 7200e9],
    ["1h30m", 5400e9],
    ["1.5h", 5400e9],
    ["0.5m", 30e9],
    ["250ms", 250e6],
    ["1m0.5s", 60.5e9],
    ["2h2h", 4 * 3600e9],
  ];
  for (const [text, ns] of cases) test(`${text} is ${ns} ns`, () => expect(parseDurationNs(text)).toBe(ns));

  for (const text of ["", "15", "1d", "15 m", "-5m", "+5m", ".5h", "5.h", "1us", "1ns", "m", "1H"]) {
    test(`"${text}" is not a duration agentland accepts`, () =>
      expect(parseDurationNs(text)).toBeUndefined());
  }

  test("a duration Go cannot represent (over ~292 years) is infinite, so any upper bound rejects it", () => {
    expect(parseDurationNs("3000000h")).toBe(Number.POSITIVE_INFINITY);
  });

  test("durationToMs converts valid durations and refuses the rest", () => {
    expect(durationToMs("1h30m")).toBe(5_400_000);
    expect(() => durationToMs("soon")).toThrow();
  });
});
