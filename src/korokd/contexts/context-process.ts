/**
 * One warm interpreter driven over pipes: requests go down a socketpair on fd 3 (the user's stdin stays
 * /dev/null), output comes back on the real stdout/stderr pipes, split per execution by markers.
 */
import { closeSync } from "node:fs";
import type { FileSink, Subprocess } from "bun";
import { exitCodeOf } from "../exec/interpreter";
import type { OutputSink } from "../exec/output-sink";
import { signalGroup } from "../exec/process-tree";
import { type Pump, pumpOutput } from "../exec/pump-output";
import type { Env } from "../exec/sandbox-env";
import { createMarkerSplitter, type MarkerSplitter } from "./marker-splitter";

export type DriverProcess = Subprocess<"ignore", "pipe", "pipe">;

export interface CellOutcome {
  /** The status the driver reported, or, when the interpreter died mid-cell, its exit code. */
  readonly status: number;
  /** True when the interpreter process ended instead of finishing the cell. */
  readonly died: boolean;
}

export interface ContextProcess {
  readonly pid: number;
  readonly proc: DriverProcess;
  /** Sends one cell; resolves when both markers arrived or the interpreter died. */
  runCell(
    code: string,
    timeoutMs: number,
    sinks: { stdout: OutputSink; stderr: OutputSink },
  ): Promise<CellOutcome>;
  /** Releases the control channel and pipes; the caller kills the process tree. */
  close(): void;
}

export function spawnContextProcess(argv: string[], env: Env, cwd: string): ContextProcess {
  const proc = Bun.spawn({
    cmd: argv,
    cwd,
    env: { ...env },
    stdio: ["ignore", "pipe", "pipe", "pipe"],
    detached: true,
  }) as DriverProcess;
  const controlFd = proc.stdio[3] as number;
  const control: FileSink = Bun.file(controlFd).writer();
  const out = createMarkerSplitter();
  const err = createMarkerSplitter();
  const pumps = [feed(proc.stdout, out), feed(proc.stderr, err)];
  let closed = false;
  // One subscription to the exit for the life of the process: a race against proc.exited per cell
  // would leave one reaction per cell on that promise until the interpreter dies.
  let exited = false;
  let onExit: (() => void) | undefined;
  void proc.exited.then(() => {
    exited = true;
    onExit?.();
  });
  const exitOrNever = () =>
    new Promise<"exited">((resolve) => {
      if (exited) resolve("exited");
      else onExit = () => resolve("exited");
    });

  return {
    pid: proc.pid,
    proc,
    async runCell(code, timeoutMs, sinks) {
      const nonce = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("hex");
      const prefix = Buffer.from(`\x1e${nonce}:`, "latin1");
      const markers = Promise.all([out.expect(prefix, sinks.stdout), err.expect(prefix, sinks.stderr)]);
      try {
        control.write(`${JSON.stringify({ nonce, code, timeout_ms: timeoutMs })}\n`);
        await control.flush();
      } catch {
        // The interpreter is gone; its exit decides the outcome below.
      }
      const first = await Promise.race([markers, exitOrNever()]);
      onExit = undefined;
      if (first !== "exited" && first[0] !== undefined) return { status: first[0], died: false };
      // Died mid-cell (or closed its pipes). Let the pipes deliver what was written, make sure the
      // interpreter is really gone, and report how it ended.
      await Promise.race([Promise.all([markers, proc.exited]), Bun.sleep(EXIT_SETTLE_MS)]);
      out.close();
      err.close();
      if (proc.exitCode === null && proc.signalCode === null) signalGroup(proc.pid, "SIGKILL");
      await proc.exited;
      return { status: exitCodeOf(proc), died: true };
    },
    close() {
      if (closed) return;
      closed = true;
      // Close the fd only after the sink let go of it, so no late write can hit a recycled fd number.
      void Promise.resolve(control.end())
        .catch(() => {})
        .finally(() => closeSync(controlFd));
      for (const pump of pumps) pump.cancel();
    },
  };
}

const EXIT_SETTLE_MS = 200;

/** Feeds a pipe into a splitter for the life of the process; end of file fails any waiting cell. */
function feed(stream: ReadableStream<Uint8Array>, splitter: MarkerSplitter): Pump {
  return pumpOutput(stream, { write: (bytes) => splitter.feed(bytes), end: () => splitter.close() });
}
