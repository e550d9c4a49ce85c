/**
 * Read-your-writes over an informer cache. After a controller writes an object, its cache shows the old
 * version until the watch delivers the new one; a reconcile in that window would decide from stale data
 * (write the same status twice, offer an already-adopted sandbox to the next claim). The memo keeps what
 * the apiserver returned from each write and serves it while the cache still holds the version the write
 * replaced. As soon as the cache shows any other version, the cache is authoritative again.
 */
import type { Clock } from "../../kube/clock";

interface Entry {
  /** resourceVersions the write superseded; "" stands for "not in the cache" (a create). */
  readonly stale: Set<string>;
  /** The written object, or undefined for a delete. */
  readonly latest: object | undefined;
  readonly at: number;
}

export interface WriteMemo {
  /** Records that `before` (undefined: nothing) became `after` (undefined: deleted). */
  remember(key: string, before: object | undefined, after: object | undefined): void;
  /** The freshest known version: the memo's while the cache is behind it, else the cache's. */
  latest<T extends object>(key: string, cached: T | undefined): T | undefined;
}

const rvOf = (obj: object | undefined): string =>
  (obj as { metadata?: { resourceVersion?: string } } | undefined)?.metadata?.resourceVersion ?? "";

export function createWriteMemo(clock: Clock, ttlMs = 120_000): WriteMemo {
  const entries = new Map<string, Entry>();
  let lastSweep = clock.monotonic();
  const sweep = () => {
    const now = clock.monotonic();
    if (now - lastSweep < ttlMs / 4) return;
    lastSweep = now;
    for (const [key, entry] of entries) if (now - entry.at > ttlMs) entries.delete(key);
  };
  return {
    remember(key, before, after) {
      sweep();
      const previous = entries.get(key);
      // "Not in the cache" stands for "not created yet" only until the next write: after that, a cache
      // without the object means it was deleted (possibly after this very write) and must win, or a
      // deleted session would keep being served from here and keep recreating its children.
      const stale = new Set([...(previous?.stale ?? [])].filter((rv) => rv !== ""));
      stale.add(rvOf(before));
      // Writing from a memo version: the cache may still show any version the memo superseded.
      if (previous?.latest) stale.add(rvOf(previous.latest));
      entries.set(key, { stale, latest: after, at: clock.monotonic() });
    },
    latest<T extends object>(key: string, cached: T | undefined): T | undefined {
      const entry = entries.get(key);
      if (!entry) return cached;
      if (entry.stale.has(rvOf(cached))) return entry.latest as T | undefined;
      entries.delete(key);
      return cached;
    },
  };
}
