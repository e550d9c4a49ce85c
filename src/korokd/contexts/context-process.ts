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
  return new DriverConnection(proc);
}

class DriverConnection implements ContextProcess {
  readonly pid: number;
  private readonly controlFd: number;
  private readonly control: FileSink;
  private readonly out = createMarkerSplitter();
  private readonly err = createMarkerSplitter();
  private readonly pumps: Pump[];
  private closed = false;
  // One subscription to the exit for the life of the process: racing proc.exited in every cell would
  // leave one reaction per cell on that promise until the interpreter dies.
  private exited = false;
  private onExit: (() => void) | undefined;

  constructor(readonly proc: DriverProcess) {
    this.pid = proc.pid;
    this.controlFd = proc.stdio[3] as number;
    this.control = Bun.file(this.controlFd).writer();
    this.pumps = [feed(proc.stdout, this.out), feed(proc.stderr, this.err)];
    void proc.exited.then(() => {
      this.exited = true;
      this.onExit?.();
    });
  }

  async runCell(
    code: string,
    timeoutMs: number,
    sinks: { stdout: OutputSink; stderr: OutputSink },
  ): Promise<CellOutcome> {
    const nonce = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("hex");
    const prefix = Buffer.from(`\x1e${nonce}:`, "latin1");
    const markers = Promise.all([
      this.out.expect(prefix, sinks.stdout),
      this.err.expect(prefix, sinks.stderr),
    ]);
    try {
      this.control.write(`${JSON.stringify({ nonce, code, timeout_ms: timeoutMs })}\n`);
      await this.control.flush();
    } catch {
      // The interpreter is gone; its exit decides the outcome below.
    }
    const first = await Promise.race([markers, this.exitOrNever()]);
    this.onExit = undefined;
    if (first !== "exited" && first[0] !== undefined) return { status: first[0], died: false };
    return await this.died(markers);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // Close the fd only after the sink let go of it, so no late write can hit a recycled fd number.
    void Promise.resolve(this.control.end())
      .catch(() => {})
      .finally(() => closeSync(this.controlFd));
    for (const pump of this.pumps) pump.cancel();
  }

  private exitOrNever(): Promise<"exited"> {
    return new Promise((resolve) => {
      if (this.exited) resolve("exited");
      else this.onExit = () => resolve("exited");
    });
  }

  /**
   * The interpreter died mid-cell (or closed its pipes). Let the pipes deliver what was written, make
   * sure it is really gone, and report how it ended.
   */
  private async died(markers: Promise<unknown>): Promise<CellOutcome> {
    const { proc } = this;
    await Promise.race([Promise.all([markers, proc.exited]), Bun.sleep(EXIT_SETTLE_MS)]);
    this.out.close();
    this.err.close();
    if (proc.exitCode === null && proc.signalCode === null) signalGroup(proc.pid, "SIGKILL");
    await proc.exited;
    return { status: exitCodeOf(proc), died: true };
  }
}

const EXIT_SETTLE_MS = 200;

/** Feeds a pipe into a splitter for the life of the process; end of file fails any waiting cell. */
function feed(stream: ReadableStream<Uint8Array>, splitter: MarkerSplitter): Pump {
  return pumpOutput(stream, { write: (bytes) => splitter.feed(bytes), end: () => splitter.close() });
}
