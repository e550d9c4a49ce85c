/**
 * Versions of objects this process knows are outdated although its watch cache still shows them: a
 * version it has just written over (or is writing over), or one whose conditional write came back
 * Conflict. A picker of warm sandboxes skips such a version instead of trying it: in a burst the caches
 * lag by seconds, and every creator trying the same stale candidates in turn cost hundreds of writes
 * refused with 409. An entry ends as soon as the cache shows any other version, or after `ttlMs`.
 */
import type { Clock } from "../../kube/clock";

export interface OutdatedVersions {
  /** `resourceVersion` of `key` is outdated (or about to be). */
  mark(key: string, resourceVersion: string): void;
  /** Whether the cache's `resourceVersion` of `key` is one known to be outdated. */
  isOutdated(key: string, resourceVersion: string | undefined): boolean;
}

/** Long enough for any watch to catch up; short enough that a write that never landed costs little. */
export const OUTDATED_TTL_MS = 30_000;

export function createOutdatedVersions(clock: Clock, ttlMs = OUTDATED_TTL_MS): OutdatedVersions {
  // In marking order (a key marked again moves to the end), so the expired ones are always at the front.
  const marked = new Map<string, { readonly resourceVersion: string; readonly at: number }>();
  return {
    mark(key, resourceVersion) {
      const now = clock.monotonic();
      for (const [k, e] of marked) {
        if (now - e.at < ttlMs) break;
        marked.delete(k);
      }
      marked.delete(key);
      marked.set(key, { resourceVersion, at: now });
    },
    isOutdated(key, resourceVersion) {
      const e = marked.get(key);
      if (!e) return false;
      if (e.resourceVersion === resourceVersion && clock.monotonic() - e.at < ttlMs) return true;
      marked.delete(key);
      return false;
    },
  };
}
