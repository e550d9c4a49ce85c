/**
 * When a session is garbage-collected, from the session CR's own fields (architecture: "Garbage
 * collection"): idle for `spec.sessionTimeout` since the last recorded activity (or since it became Ready),
 * older than `spec.maxSessionDuration`, failed for longer than a short retention, or never Ready within the
 * create timeout plus that retention. Pure: the caller supplies `now`.
 */
import { durationToMs } from "../../api/schema/duration";
import { DEFAULT_MAX_SESSION_DURATION, DEFAULT_SESSION_TIMEOUT } from "../../api/session";
import type { SessionObject } from "../sessions/session-kinds";

export type GcReason = "IdleTimeout" | "MaxSessionDuration" | "Failed" | "NeverReady";

export interface GcDecision {
  /** The earliest time (epoch ms) at which the session is to be deleted, and why. */
  readonly at: number;
  readonly reason: GcReason;
}

export interface GcSettings {
  /** Effective timeouts for sessions whose spec leaves them out (AgentSessions inherit the runtime's). */
  readonly defaultSessionTimeoutMs?: number;
  readonly defaultMaxSessionDurationMs?: number;
  readonly createTimeoutMs: number;
  readonly failedRetentionMs: number;
}

const ms = (iso: string | undefined) => (iso ? Date.parse(iso) : undefined);

export function gcDeadline(obj: SessionObject, settings: GcSettings): GcDecision {
  const created = ms(obj.metadata.creationTimestamp) ?? 0;
  const status = obj.status ?? {};
  const idleMs = obj.spec.sessionTimeout
    ? durationToMs(obj.spec.sessionTimeout)
    : (settings.defaultSessionTimeoutMs ?? durationToMs(DEFAULT_SESSION_TIMEOUT));
  const maxMs = obj.spec.maxSessionDuration
    ? durationToMs(obj.spec.maxSessionDuration)
    : (settings.defaultMaxSessionDurationMs ?? durationToMs(DEFAULT_MAX_SESSION_DURATION));
  const candidates: GcDecision[] = [{ at: created + maxMs, reason: "MaxSessionDuration" }];
  const started = ms(status.startTime);
  if (status.phase === "Failed") {
    const ready = status.conditions?.find((c) => c.type === "Ready");
    const failedAt = ms(ready?.lastTransitionTime) ?? created;
    candidates.push({ at: failedAt + settings.failedRetentionMs, reason: "Failed" });
  } else if (started === undefined) {
    candidates.push({
      at: created + settings.createTimeoutMs + settings.failedRetentionMs,
      reason: "NeverReady",
    });
  } else {
    const lastActive = Math.max(ms(status.lastActivityTime) ?? 0, started);
    candidates.push({ at: lastActive + idleMs, reason: "IdleTimeout" });
  }
  return candidates.reduce((a, b) => (b.at < a.at ? b : a));
}
