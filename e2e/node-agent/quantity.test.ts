import { expect, test } from "bun:test";
import { divideCeil, parseQuantity } from "./quantity";

test("Kubernetes quantities parse to base units in every notation", () => {
  expect(parseQuantity("250m")).toBeCloseTo(0.25);
  expect(parseQuantity("2")).toBe(2);
  expect(parseQuantity("1.5")).toBe(1.5);
  expect(parseQuantity("64Mi")).toBe(64 * 2 ** 20);
  expect(parseQuantity("1G")).toBe(1e9);
  expect(parseQuantity("1k")).toBe(1000);
  expect(parseQuantity("2e3")).toBe(2000);
  expect(parseQuantity("100u")).toBeCloseTo(0.0001);
  for (const bad of ["", "1x", "Mi", "1 Mi", "1.2.3"]) expect(() => parseQuantity(bad)).toThrow();
});

test("resource values are divided by the divisor and rounded up, without binary-fraction noise", () => {
  expect(divideCeil(parseQuantity("250m"), parseQuantity("1"))).toBe("1");
  expect(divideCeil(parseQuantity("250m"), parseQuantity("1m"))).toBe("250");
  expect(divideCeil(parseQuantity("100m"), parseQuantity("1m"))).toBe("100");
  expect(divideCeil(parseQuantity("64Mi"), parseQuantity("1Mi"))).toBe("64");
  expect(divideCeil(parseQuantity("65M"), parseQuantity("1Mi"))).toBe("62");
});
