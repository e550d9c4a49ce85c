/**
 * Reads Kubernetes resource quantities (`500m`, `2Gi`, `1e3`) as numbers, to compare requests with limits the
 * way CEL's `quantity(...).compareTo(...)` does on the apiserver. Doubles are exact enough for that comparison
 * at any size a Pod can ask for.
 */
import { QUANTITY_PATTERN } from "./fields";

const SUFFIX: Readonly<Record<string, number>> = {
  "": 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const FULL = new RegExp(QUANTITY_PATTERN);
const PARTS = /^([0-9]*[.]?[0-9]*)(.*)$/;

/** The value of a quantity, or `undefined` if it is not one agentland accepts. */
export function parseQuantity(value: number | string): number | undefined {
  if (typeof value === "number") return Number.isInteger(value) && value >= 0 ? value : undefined;
  if (!FULL.test(value)) return undefined;
  const [, digits, suffix] = PARTS.exec(value) as RegExpExecArray;
  const amount = Number(digits);
  const multiplier = SUFFIX[suffix as string];
  if (multiplier !== undefined) return amount * multiplier;
  return amount * 10 ** Number((suffix as string).slice(1)); // e/E exponent
}
