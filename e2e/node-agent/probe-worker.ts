/**
 * Runs one probe of one container on its schedule and reports when its thresholded result changes:
 * first attempt after `initialDelaySeconds`, then every `periodSeconds`, each attempt bounded by
 * `timeoutSeconds`; the result flips to success after `successThreshold` consecutive successes and to
 * failure after `failureThreshold` consecutive failures. Readiness starts as failure (a pod is never
 * Ready before its probe passed), liveness as success, startup as failure.
 *
 * Until a readiness probe first succeeds it is retried sooner than its period (after 100 ms, doubling
 * up to 1 s; the kubelet likewise re-runs a readiness probe on status changes of a started, unready
 * container), so pods turn Ready promptly; startup and liveness probes keep their period, because
 * their thresholds are time budgets.
 */
import { abortableSleep } from "../../src/kube/clock";
import type { Probe } from "./pod-types";
import { type ProbeContext, type ProbeResult, runHandler } from "./probe";

export type ProbeKind = "readiness" | "liveness" | "startup";

export interface ProbeWorkerOptions {
  readonly kind: ProbeKind;
  readonly probe: Probe;
  readonly ctx: ProbeContext;
  /** Called when the thresholded result changes (and for failures, with the last message). */
  onChange(ok: boolean, message: string | undefined): void;
  /** Called after every attempt that failed, for events. */
  onFailure?(message: string): void;
}

export interface ProbeWorker {
  stop(): Promise<void>;
}

export interface ProbeTiming {
  readonly initialDelayMs: number;
  readonly periodMs: number;
  readonly timeoutMs: number;
  readonly successThreshold: number;
  readonly failureThreshold: number;
}

export function probeTiming(probe: Probe, kind: ProbeKind): ProbeTiming {
  return {
    initialDelayMs: (probe.initialDelaySeconds ?? 0) * 1000,
    periodMs: (probe.periodSeconds ?? 10) * 1000,
    timeoutMs: (probe.timeoutSeconds ?? 1) * 1000,
    // Liveness and startup probes must use successThreshold 1 (API validation).
    successThreshold: kind === "readiness" ? (probe.successThreshold ?? 1) : 1,
    failureThreshold: probe.failureThreshold ?? 3,
  };
}

/** Pure threshold logic: the next state after one attempt. */
export function nextProbeState(
  state: { ok: boolean; successes: number; failures: number },
  result: ProbeResult,
  timing: Pick<ProbeTiming, "successThreshold" | "failureThreshold">,
): { ok: boolean; successes: number; failures: number } {
  if (result.ok) {
    const successes = state.successes + 1;
    return { ok: state.ok || successes >= timing.successThreshold, successes, failures: 0 };
  }
  const failures = state.failures + 1;
  return { ok: state.ok && failures < timing.failureThreshold, successes: 0, failures };
}

export function startProbeWorker(opts: ProbeWorkerOptions): ProbeWorker {
  const ctl = new AbortController();
  const timing = probeTiming(opts.probe, opts.kind);
  const loop = async () => {
    let state = { ok: opts.kind === "liveness", successes: 0, failures: 0 };
    let everSucceeded = false;
    let attempts = 0;
    let lastReport = Number.NEGATIVE_INFINITY;
    await abortableSleep(timing.initialDelayMs, ctl.signal);
    while (!ctl.signal.aborted) {
      const result = await runHandler(opts.probe, opts.ctx, timing.timeoutMs, ctl.signal);
      if (ctl.signal.aborted) return;
      const next = nextProbeState(state, result, timing);
      // Extra early attempts must not multiply the Unhealthy events: at most one per period.
      if (!result.ok && performance.now() - lastReport >= timing.periodMs) {
        lastReport = performance.now();
        opts.onFailure?.(result.message);
      }
      if (next.ok !== state.ok) opts.onChange(next.ok, result.ok ? undefined : result.message);
      state = next;
      everSucceeded ||= result.ok;
      const fast = opts.kind === "readiness" && !everSucceeded;
      const early = Math.min(timing.periodMs, 1000, 100 * 2 ** attempts++);
      await abortableSleep(fast ? early : timing.periodMs, ctl.signal);
    }
  };
  const done = loop().catch(() => {
    // aborted while sleeping: the worker was stopped
  });
  return {
    async stop() {
      ctl.abort();
      await done;
    },
  };
}
