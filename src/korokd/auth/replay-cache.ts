/**
 * Remembers every accepted `jti` until its token expires, so a captured token cannot be replayed
 * (RFC 7519 §4.1.7). Bounded: when full of unexpired entries it refuses new tokens instead of
 * forgetting old ones, because forgetting would reopen the replay window.
 */
import type { Clock } from "../clock";

export type ReplayVerdict = "fresh" | "replayed" | "full";

export interface ReplayCache {
  /** Records `jti` as used until `expiresAtMs`; says whether it was fresh, seen before, or no room. */
  claim(jti: string, expiresAtMs: number): ReplayVerdict;
  readonly size: number;
}

export function createReplayCache(options: { clock: Clock; capacity: number }): ReplayCache {
  const seen = new Map<string, number>();
  const { clock, capacity } = options;

  /** Drops expired entries; insertion order roughly follows expiry, so a front scan is usually enough. */
  function sweep(full: boolean): void {
    const now = clock.now();
    for (const [jti, expiresAt] of seen) {
      if (expiresAt <= now) seen.delete(jti);
      else if (!full) return;
    }
  }

  return {
    claim(jti, expiresAtMs) {
      sweep(false);
      const known = seen.get(jti);
      if (known !== undefined && known > clock.now()) return "replayed";
      if (seen.size >= capacity) sweep(true);
      if (seen.size >= capacity) return "full";
      seen.set(jti, expiresAtMs);
      return "fresh";
    },
    get size() {
      return seen.size;
    },
  };
}
