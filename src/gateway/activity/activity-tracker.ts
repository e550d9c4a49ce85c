/**
 * Tells AgentCore which sessions are in use, so its garbage collector never deletes a busy one. Requests
 * mark a session busy while they (or their response stream) last; a background loop sends one batch per
 * interval with each touched session's last activity and in-flight count. Sessions with work in flight are
 * re-reported every interval, because AgentCore treats in-flight reports as valid for one period only.
 */
import type { Clock } from "../../kube/clock";
import type { Logger } from "../../log/logger";
import type { SessionActivityReport } from "../agentcore/agentcore-client";
import { describeError } from "../describe-error";

export interface ActivityTracker {
  /** Marks the session busy; call the returned function (once is enough, more is harmless) when done. */
  begin(session: { readonly id: string; readonly namespace: string }): () => void;
  /** Sends what is pending now (used by the loop and on shutdown). */
  flush(): Promise<void>;
  start(): void;
  /** Stops the loop after one last flush. */
  stop(): Promise<void>;
}

export interface ActivityTrackerOptions {
  readonly reporter: string;
  readonly intervalMs: number;
  readonly clock: Pick<Clock, "now">;
  readonly send: (
    reporter: string,
    batch: readonly SessionActivityReport[],
    signal: AbortSignal,
  ) => Promise<string[]>;
  /** Called for each id AgentCore no longer knows. */
  readonly onUnknown: (id: string) => void;
  readonly log: Logger;
}

interface Entry {
  namespace: string;
  lastActivityAtMs: number;
  inFlight: number;
  dirty: boolean;
}

export function createActivityTracker(opts: ActivityTrackerOptions): ActivityTracker {
  const entries = new Map<string, Entry>();
  let timer: ReturnType<typeof setInterval> | undefined;
  let sending: Promise<void> | undefined;

  function begin(session: { readonly id: string; readonly namespace: string }): () => void {
    let entry = entries.get(session.id);
    if (entry === undefined) {
      entry = { namespace: session.namespace, lastActivityAtMs: 0, inFlight: 0, dirty: true };
      entries.set(session.id, entry);
    }
    const e = entry;
    e.inFlight++;
    e.lastActivityAtMs = opts.clock.now();
    e.dirty = true;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      e.inFlight--;
      e.lastActivityAtMs = opts.clock.now();
      e.dirty = true;
      // The session's entry may have been dropped (unknown to AgentCore) meanwhile: keep it gone.
    };
  }

  async function sendOnce(): Promise<void> {
    const batch: SessionActivityReport[] = [];
    const now = opts.clock.now();
    for (const [id, e] of entries) {
      // Work in flight means the session is in use right now, however long ago the request began.
      if (e.inFlight > 0) e.lastActivityAtMs = now;
      if (e.dirty || e.inFlight > 0) {
        batch.push({
          id,
          namespace: e.namespace,
          lastActivityAtMs: e.lastActivityAtMs,
          inFlight: e.inFlight,
        });
      }
    }
    if (batch.length === 0) return;
    const sentAt = new Map(batch.map((b) => [b.id, b.lastActivityAtMs]));
    const unknown = await opts.send(
      opts.reporter,
      batch,
      AbortSignal.timeout(Math.max(opts.intervalMs * 5, 5_000)),
    );
    for (const [id, at] of sentAt) {
      const e = entries.get(id);
      if (e === undefined) continue;
      if (e.lastActivityAtMs === at) e.dirty = false;
      if (!e.dirty && e.inFlight === 0) entries.delete(id);
    }
    for (const id of unknown) {
      entries.delete(id);
      opts.onUnknown(id);
    }
  }

  function flush(): Promise<void> {
    // Never two batches at once: a slow AgentCore must not pile up requests.
    if (sending !== undefined) return sending;
    sending = sendOnce()
      .catch((err: unknown) => opts.log.warn("activity report failed", { error: describeError(err) }))
      .finally(() => {
        sending = undefined;
      });
    return sending;
  }

  return {
    begin,
    flush,
    start() {
      timer = setInterval(() => void flush(), opts.intervalMs);
    },
    async stop() {
      if (timer !== undefined) clearInterval(timer);
      await sending;
      await flush();
    },
  };
}
