/**
 * When a gateway's activity report becomes a write of `status.lastActivityTime`. Writes are bounded to one
 * per session per `intervalMs`: heavy traffic must not turn into apiserver writes. This is safe for GC
 * because the smallest sessionTimeout (30 s) is well above the interval (10 s) plus the report period (1 s):
 * a busy session's recorded activity is never older than its idle timeout.
 */
export interface ActivityReport {
  /** When the gateway last saw traffic for the session (epoch ms). */
  readonly lastActivityMs: number;
  /** Executions or streams still open: the session is busy right now. */
  readonly inFlight: number;
}

export function effectiveActivityMs(report: ActivityReport, nowMs: number): number {
  return report.inFlight > 0 ? nowMs : Math.min(report.lastActivityMs, nowMs);
}

export function shouldWriteActivity(opts: {
  readonly recordedMs: number | undefined;
  readonly activityMs: number;
  readonly lastWriteMs: number | undefined;
  readonly nowMs: number;
  readonly intervalMs: number;
}): boolean {
  if (opts.lastWriteMs !== undefined && opts.nowMs - opts.lastWriteMs < opts.intervalMs) return false;
  if (opts.recordedMs === undefined) return true;
  return opts.activityMs - opts.recordedMs >= opts.intervalMs;
}
