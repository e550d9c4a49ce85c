/**
 * Kubernetes-style durations (`30s`, `15m`, `1h30m`, `1.5h`) — the subset of Go's `time.ParseDuration` syntax
 * agentland accepts. CEL's `duration()` is Go's parser, so for strings matching {@link DURATION_PATTERN} this
 * function and the apiserver compute the same value.
 */

/** Units a user may write; sub-millisecond units make no sense for session lifetimes. */
export const DURATION_PATTERN = "^([0-9]+([.][0-9]+)?(h|ms|m|s))+$";

const UNIT_NS = { h: 3_600_000_000_000, m: 60_000_000_000, s: 1_000_000_000, ms: 1_000_000 } as const;
const SEGMENT = /([0-9]+)(?:[.]([0-9]+))?(h|ms|m|s)/g;
const FULL = new RegExp(DURATION_PATTERN);

/** Go's duration limit (int64 nanoseconds); longer strings make `duration()` fail, i.e. the value is invalid. */
const MAX_NS = 2 ** 63 - 1;

/** Nanoseconds of a duration string, `Infinity` when Go would overflow, `undefined` when it is not one. */
export function parseDurationNs(text: string): number | undefined {
  if (!FULL.test(text)) return undefined;
  let total = 0;
  for (const [, whole, fraction, unit] of text.matchAll(SEGMENT)) {
    const unitNs = UNIT_NS[unit as keyof typeof UNIT_NS];
    // Go adds the fraction as float64(f) * (float64(unit) / 10^digits), truncated to whole nanoseconds.
    const frac = fraction ? Math.trunc(Number(fraction) * (unitNs / 10 ** fraction.length)) : 0;
    total += Number(whole) * unitNs + frac;
    if (total > MAX_NS) return Number.POSITIVE_INFINITY;
  }
  return total;
}

/** Milliseconds of a duration string that already passed validation. */
export function durationToMs(text: string): number {
  const ns = parseDurationNs(text);
  if (ns === undefined) throw new Error(`not a duration: ${JSON.stringify(text)}`);
  return ns / 1_000_000;
}
