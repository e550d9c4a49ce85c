/**
 * Applies gateway activity reports to session CRs (any replica may receive them): writes
 * `status.lastActivityTime` at most once per interval per session, with a merge patch of that one field
 * so it never races the controllers' status fields.
 */
import type { KubeClient } from "../../kube/kube-client";
import { isNotFound } from "../../kube/kube-error";
import type { SessionKindInfo, SessionObject } from "../sessions/session-kinds";
import { type ActivityReport, effectiveActivityMs, shouldWriteActivity } from "./activity-policy";

export interface ActivityRecorder {
  /** Returns whether a write was made. */
  record(
    kind: SessionKindInfo,
    obj: SessionObject,
    report: ActivityReport,
    signal: AbortSignal,
  ): Promise<boolean>;
}

export function createActivityRecorder(deps: {
  readonly client: KubeClient;
  readonly intervalMs: number;
  readonly now: () => number;
}): ActivityRecorder {
  const lastWrite = new Map<string, number>();
  return {
    async record(kind, obj, report, signal) {
      const key = obj.metadata.uid ?? `${obj.metadata.namespace}/${obj.metadata.name}`;
      const now = deps.now();
      const activityMs = effectiveActivityMs(report, now);
      // GC counts idleness from the later of lastActivityTime and startTime (gc-policy.ts), so a session
      // that became Ready moments ago has its activity on record already: its first report needs no write.
      // In a burst of new sessions that is one status write per session less, just when the apiserver is busiest.
      const recorded = obj.status?.lastActivityTime ?? obj.status?.startTime;
      const write = shouldWriteActivity({
        recordedMs: recorded ? Date.parse(recorded) : undefined,
        activityMs,
        lastWriteMs: lastWrite.get(key),
        nowMs: now,
        intervalMs: deps.intervalMs,
      });
      if (!write) return false;
      lastWrite.set(key, now);
      pruneOld(lastWrite, now, deps.intervalMs);
      try {
        await deps.client.resource(kind.resource).patchStatus(obj.metadata.name ?? "", {
          namespace: obj.metadata.namespace,
          type: "merge",
          patch: { status: { lastActivityTime: new Date(activityMs).toISOString() } },
          signal,
        });
      } catch (err) {
        lastWrite.delete(key);
        if (!isNotFound(err)) throw err;
        return false; // deleted meanwhile: nothing to record
      }
      return true;
    },
  };
}

function pruneOld(map: Map<string, number>, now: number, intervalMs: number): void {
  if (map.size < 10_000) return;
  for (const [k, t] of map) if (now - t >= intervalMs) map.delete(k);
}
