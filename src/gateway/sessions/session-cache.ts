/**
 * A short-lived cache of sessions this replica recently resolved, so a stream of requests in one session
 * costs one AgentCore lookup per TTL instead of one per request. Past half its TTL an entry asks to be
 * refreshed in the background, so a busy session never makes a request wait for AgentCore. Keyed by principal and id: a hit can
 * never hand one principal's session to another. Entries leave early when the session is deleted here,
 * when AgentCore reports it unknown, or when its sandbox stops answering.
 */
import type { Session } from "../../gen/agentland/agentcore/v1/agentcore_pb";

export interface CachedSession {
  readonly session: Session;
  /** Older than half the TTL: look it up again (the entry stays usable until the TTL). */
  readonly refresh: boolean;
}

export interface SessionCache {
  get(principal: string, id: string): CachedSession | undefined;
  put(principal: string, session: Session): void;
  /** Drops every principal's entry for this id. */
  forget(id: string): void;
  /**
   * Remembers that this id was deleted here. AgentCore answers reads from its informer cache, which may
   * still hold the session for a moment after the delete; a tombstone keeps that moment from reviving it.
   */
  bury(id: string): void;
  isBuried(id: string): boolean;
}

/** Longer than any informer lag; short enough that the set stays small. */
const TOMBSTONE_TTL_MS = 60_000;

export function createSessionCache(opts: {
  ttlMs: number;
  maxEntries: number;
  now: () => number;
}): SessionCache {
  const entries = new Map<string, { session: Session; refreshAt: number; expiresAt: number }>();
  const tombstones = new Map<string, number>();
  const key = (principal: string, id: string) => `${principal}\u0000${id}`;
  return {
    get(principal, id) {
      const k = key(principal, id);
      const hit = entries.get(k);
      if (hit === undefined) return undefined;
      const now = opts.now();
      if (hit.expiresAt <= now) {
        entries.delete(k);
        return undefined;
      }
      return { session: hit.session, refresh: hit.refreshAt <= now };
    },
    put(principal, session) {
      const k = key(principal, session.id);
      entries.delete(k);
      if (entries.size >= opts.maxEntries) {
        // Maps iterate in insertion order: the first key is the oldest entry.
        const oldest = entries.keys().next().value;
        if (oldest !== undefined) entries.delete(oldest);
      }
      const now = opts.now();
      entries.set(k, { session, refreshAt: now + opts.ttlMs / 2, expiresAt: now + opts.ttlMs });
    },
    forget(id) {
      for (const k of entries.keys()) if (k.endsWith(`\u0000${id}`)) entries.delete(k);
    },
    bury(id) {
      this.forget(id);
      const now = opts.now();
      for (const [buried, until] of tombstones) {
        if (until > now && tombstones.size < opts.maxEntries) break;
        tombstones.delete(buried);
      }
      tombstones.set(id, now + TOMBSTONE_TTL_MS);
    },
    isBuried(id) {
      const until = tombstones.get(id);
      return until !== undefined && until > opts.now();
    },
  };
}
