/**
 * Kubernetes resource quantities as plain numbers of base units, for `resourceFieldRef` values: the API's
 * own reading of a quantity (src/api/schema/quantity.ts), throwing where the node agent cannot go on.
 */
import { parseQuantity as readQuantity } from "../../src/api/schema/quantity";

export function parseQuantity(text: string): number {
  const value = readQuantity(text.trim());
  if (value === undefined) throw new RangeError(`not a Kubernetes quantity: "${text}"`);
  return value;
}

/** `value / divisor`, rounded up, as the kubelet reports resourceFieldRef values (at least 1 for >0). */
export function divideCeil(value: number, divisor: number): string {
  // Tolerate binary-fraction noise (0.1 CPU / 1m must be 100, not 101).
  const q = value / divisor;
  const rounded = Math.round(q);
  return String(Math.abs(q - rounded) < 1e-9 ? rounded : Math.ceil(q));
}
