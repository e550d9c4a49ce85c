/**
 * Bearer tokens. A projected ServiceAccount token is rotated by the kubelet (about hourly), so a file
 * token is re-read periodically and again at once after a 401, as client-go does.
 */
import { readFileSync } from "node:fs";
import { type Clock, systemClock } from "./clock";

export interface TokenSource {
  /** The current token. */
  token(): string;
  /** Forget the cached token (called after a 401) so the next `token()` reads it again. */
  invalidate(): void;
}

export function staticToken(value: string): TokenSource {
  return { token: () => value, invalidate: () => {} };
}

/** Re-reads `path` when the cached copy is older than `maxAgeMs` (monotonic) or after `invalidate()`. */
export function fileToken(path: string, opts: { maxAgeMs?: number; clock?: Clock } = {}): TokenSource {
  const clock = opts.clock ?? systemClock;
  const maxAgeMs = opts.maxAgeMs ?? 60_000;
  let cached: { value: string; readAt: number } | undefined;
  return {
    token() {
      const now = clock.monotonic();
      if (cached === undefined || now - cached.readAt >= maxAgeMs) {
        cached = { value: readFileSync(path, "utf8").trim(), readAt: now };
      }
      return cached.value;
    },
    invalidate() {
      cached = undefined;
    },
  };
}
