import { expect, test } from "bun:test";
import { parseQuantity } from "./quantity";

test("quantities read as their value in base units", () => {
  const cases: [number | string, number][] = [
    [1, 1],
    ["1", 1],
    ["500m", 0.5],
    ["1000m", 1],
    ["2Gi", 2 * 2 ** 30],
    ["128Mi", 128 * 2 ** 20],
    ["1k", 1000],
    ["1.5G", 1.5e9],
    ["1e3", 1000],
    ["1E3", 1000],
    ["2E", 2e18],
    [".5", 0.5],
  ];
  for (const [text, value] of cases) expect([text, parseQuantity(text)]).toEqual([text, value]);
});

test("things that are not non-negative quantities are refused", () => {
  for (const text of ["lots", "-1", "1.5.5", "1Gb", "", "1 Gi"]) expect(parseQuantity(text)).toBeUndefined();
  expect(parseQuantity(-1)).toBeUndefined();
  expect(parseQuantity(1.5)).toBeUndefined();
});

test("a request of 1 CPU equals a limit of 1000m, as the apiserver compares them", () => {
  expect(parseQuantity(1)).toBe(parseQuantity("1000m"));
});
