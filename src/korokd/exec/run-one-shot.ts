/**
 * Drives one fresh process through one program: hand the code over, collect capped output, enforce
 * the timeout and cancellation by killing the whole process tree, and leave nothing running afterwards.
 */
import { type OomCounter, watchOom } from "./oom-counter";
import { createOutputCapture } from "./output-capture";
import { createOutputSink } from "./output-sink";
import { signalGroup, terminateTree } from "./process-tree";
import { type Pump, pumpOutput } from "./pump-output";
import type { RunProcess } from "./run-process";
import { type OutputListener, type RunLimits, type RunResult, roundMs } from "./run-result";

export interface OneShotRun {
  /** Started, with its program handed over by `start()` (or already, by a fork server). */
  readonly process: RunProcess;
  readonly limits: RunLimits;
  /** Aborted when the client goes away or korokd shuts down: the run is killed. */
  readonly signal: AbortSignal;
  readonly onOutput?: OutputListener;
  readonly oom: OomCounter;
}

/** How long output pipes may stay open after the tree was killed (a setsid'd escapee holding them). */
const PIPE_SETTLE_MS = 500;

export async function runOneShot(run: OneShotRun): Promise<RunResult> {
  const proc = run.process;
  const stdout = createOutputCapture(run.limits.outputLimitBytes);
  const stderr = createOutputCapture(run.limits.outputLimitBytes);
  const pumps = [
    pumpOutput(proc.stdout, createOutputSink(stdout, "stdout", run.onOutput)),
    pumpOutput(proc.stderr, createOutputSink(stderr, "stderr", run.onOutput)),
  ];
  const guard = guardRun(proc.pid, run.limits, run.signal);
  const oom = watchOom(run.oom);
  const started = performance.now();
  let duration = 0;
  let exitCode = 128;
  try {
    await proc.start();
    exitCode = await proc.exited;
    duration = performance.now() - started;
  } finally {
    guard.disarm();
    // A one-shot run owns nothing after it ends: background jobs it left die with it.
    signalGroup(proc.pid, "SIGKILL");
    await guard.killed();
    await settle(pumps);
    await proc.release().catch(() => {});
  }
  return {
    exit_code: exitCode,
    stdout: stdout.text(),
    stderr: stderr.text(),
    duration_ms: roundMs(duration),
    timed_out: guard.timedOut,
    oom_killed: oom.killed(exitCode),
    truncated: { stdout: stdout.truncated, stderr: stderr.truncated },
  };
}

/** Kills the tree led by `pid` when the timeout fires or the signal aborts, whichever comes first. */
function guardRun(pid: number, limits: RunLimits, signal: AbortSignal) {
  let timedOut = false;
  let killing: Promise<void> | undefined;
  const kill = () => {
    killing ??= terminateTree(pid, limits.killGraceMs);
  };
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, limits.timeoutMs);
  signal.addEventListener("abort", kill, { once: true });
  if (signal.aborted) kill();
  return {
    get timedOut() {
      return timedOut;
    },
    disarm() {
      clearTimeout(timer);
      signal.removeEventListener("abort", kill);
    },
    killed: () => killing ?? Promise.resolve(),
  };
}

async function settle(pumps: readonly Pump[]): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const all = Promise.all(pumps.map((p) => p.done));
  await Promise.race([all, new Promise<void>((r) => (timer = setTimeout(r, PIPE_SETTLE_MS)))]);
  clearTimeout(timer);
  for (const p of pumps) p.cancel();
  await all;
}
