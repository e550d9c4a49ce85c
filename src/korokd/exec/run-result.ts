/** What every execution returns, one-shot or in a context; the JSON body and the SSE `exit` event. */
export interface RunResult {
  /** The process's exit code, or 128 + signal number when it was killed (137: SIGKILL). */
  readonly exit_code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly duration_ms: number;
  /** Korokd killed the run because it exceeded its `timeout_ms`. */
  readonly timed_out: boolean;
  /**
   * The kernel's OOM killer killed the run for exceeding the sandbox's memory limit (then exit_code is
   * 137). Known from the sandbox's memory cgroup; always false where korokd cannot read it.
   */
  readonly oom_killed: boolean;
  readonly truncated: { readonly stdout: boolean; readonly stderr: boolean };
}

export type OutputStream = "stdout" | "stderr";

/** Receives output text as it is produced (already within the output cap). */
export type OutputListener = (stream: OutputStream, text: string) => void;

export interface RunLimits {
  readonly timeoutMs: number;
  readonly outputLimitBytes: number;
  readonly killGraceMs: number;
}

export function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
