/**
 * Building blocks for per-mode setting schemas. Every raw value arrives as a string (flag or env var);
 * these pipes validate and convert it once, so the rest of the program only sees typed values.
 */
import * as v from "valibot";

export const port = (fallback: number) =>
  v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,5}$/, "must be a port number"),
      v.transform(Number),
      // 0 asks the kernel for a free port (tests start many servers side by side).
      v.maxValue(65535, "must be a port number between 0 and 65535"),
    ),
    String(fallback),
  );

export const positiveInt = (fallback: number, max = Number.MAX_SAFE_INTEGER) =>
  v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d+$/, "must be a whole number"),
      v.transform(Number),
      v.minValue(1, "must be at least 1"),
      v.maxValue(max, `must be at most ${max}`),
    ),
    String(fallback),
  );

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** A duration such as `500ms`, `30s`, `15m` or `2h`, converted to milliseconds. */
export const durationMs = (fallback: string) =>
  v.optional(
    v.pipe(
      v.string(),
      v.regex(DURATION, "must be a duration such as 500ms, 30s, 15m or 2h"),
      v.transform((s) => {
        const [, amount, unit] = DURATION.exec(s) as RegExpExecArray;
        return Math.round(Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS]);
      }),
    ),
    fallback,
  );

export const logLevel = v.optional(v.picklist(["debug", "info", "warn", "error"]), "info");

/**
 * Where a server listens: the pod IP from the downward API when it is set (several replicas and sandboxes
 * share one node in the local cluster, each on its own loopback address), otherwise every interface.
 */
export const listenHost = v.optional(v.pipe(v.string(), v.nonEmpty("must not be empty")));

export function defaultListenHost(podIp: string | undefined): string {
  return podIp && podIp.length > 0 ? podIp : "0.0.0.0";
}
