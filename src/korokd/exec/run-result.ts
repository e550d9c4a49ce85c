/** What every execution returns, one-shot or in a context; the JSON body and the SSE `exit` event. */
export interface RunResult {
  readonly exit_code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly duration_ms: number;
  readonly timed_out: boolean;
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
