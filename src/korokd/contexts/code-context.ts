/**
 * A stateful execution context: one interpreter kept alive between executions. Only one execution runs
 * at a time. A timeout or a client disconnect first interrupts (SIGINT, state survives); if the cell
 * does not stop within the grace, the interpreter is replaced (state is lost, the context lives on).
 */
import type { SpawnedChild } from "../exec/interpreter";
import { type OomCounter, watchOom } from "../exec/oom-counter";
import { createOutputCapture } from "../exec/output-capture";
import { createOutputSink } from "../exec/output-sink";
import { signalGroup, terminateTree } from "../exec/process-tree";
import { type OutputListener, type RunResult, roundMs } from "../exec/run-result";
import type { Env } from "../exec/sandbox-env";
import { KorokdError } from "../korokd-error";
import { type CellOutcome, type ContextProcess, spawnContextProcess } from "./context-process";

export type ContextLanguage = "python" | "javascript" | "typescript";

export interface CodeContextOptions {
  readonly id: string;
  readonly language: ContextLanguage;
  readonly argv: string[];
  readonly env: Env;
  readonly cwd: string;
  readonly killGraceMs: number;
  readonly createdAt: string;
  readonly onSpawn: (child: SpawnedChild) => void;
  readonly oom: OomCounter;
}

export interface CellRequest {
  readonly code: string;
  readonly timeoutMs: number;
  readonly outputLimitBytes: number;
  readonly signal: AbortSignal;
  readonly onOutput?: OutputListener;
}

export interface CodeContext {
  readonly id: string;
  readonly language: ContextLanguage;
  readonly createdAt: string;
  readonly busy: boolean;
  execute(request: CellRequest): Promise<RunResult>;
  /** Interrupts the running execution; replaces the interpreter if it does not stop in time. */
  interrupt(): Promise<{ interrupted: boolean; restarted: boolean }>;
  /** A fresh interpreter: all state is gone, the id stays. */
  restart(): Promise<void>;
  dispose(): Promise<void>;
}

export function createCodeContext(options: CodeContextOptions): CodeContext {
  return new InterpreterContext(options);
}

class InterpreterContext implements CodeContext {
  readonly id: string;
  readonly language: ContextLanguage;
  readonly createdAt: string;
  private current: ContextProcess;
  private running: Promise<CellOutcome> | undefined;
  private disposed = false;

  constructor(private readonly options: CodeContextOptions) {
    this.id = options.id;
    this.language = options.language;
    this.createdAt = options.createdAt;
    this.current = this.spawn();
  }

  get busy(): boolean {
    return this.running !== undefined;
  }

  async execute(request: CellRequest): Promise<RunResult> {
    if (this.disposed) throw new KorokdError("context_not_found", `context ${this.id} does not exist`);
    if (this.running !== undefined) {
      throw new KorokdError("context_busy", `context ${this.id} is running another execution`);
    }
    return await this.executeCell(request);
  }

  async interrupt(): Promise<{ interrupted: boolean; restarted: boolean }> {
    if (this.running === undefined) return { interrupted: false, restarted: false };
    if (await this.interruptRunning()) return { interrupted: true, restarted: false };
    await this.replace();
    return { interrupted: true, restarted: true };
  }

  restart(): Promise<void> {
    return this.replace();
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    this.current.close();
    await terminateTree(this.current.pid, this.options.killGraceMs);
  }

  private spawn(): ContextProcess {
    const worker = spawnContextProcess(this.options.argv, this.options.env, this.options.cwd);
    this.options.onSpawn(worker.proc);
    return worker;
  }

  /** A fresh interpreter takes over at once; the old one and everything it started is killed. */
  private async replace(): Promise<void> {
    const old = this.current;
    this.current = this.spawn();
    old.close();
    await terminateTree(old.pid, this.options.killGraceMs);
  }

  /** SIGINT to the group; true if the running cell ended within the grace. */
  private async interruptRunning(): Promise<boolean> {
    const cell = this.running;
    if (cell === undefined) return true;
    signalGroup(this.current.pid, "SIGINT");
    return await settlesWithin(cell, this.options.killGraceMs);
  }

  private async executeCell(request: CellRequest): Promise<RunResult> {
    const stdout = createOutputCapture(request.outputLimitBytes);
    const stderr = createOutputCapture(request.outputLimitBytes);
    const worker = this.current;
    const started = performance.now();
    const cell = worker.runCell(request.code, request.timeoutMs, {
      stdout: createOutputSink(stdout, "stdout", request.onOutput),
      stderr: createOutputSink(stderr, "stderr", request.onOutput),
    });
    this.running = cell;
    const oom = watchOom(this.options.oom);
    const watch = watchCell(request, async () => {
      if (!(await this.interruptRunning()) && this.current === worker) await this.replace();
    });
    try {
      const outcome = await cell;
      // The interpreter died under the cell (os._exit, a crash): keep the context usable.
      if (outcome.died && this.current === worker && !this.disposed) await this.replace();
      return {
        exit_code: outcome.status,
        stdout: stdout.text(),
        stderr: stderr.text(),
        duration_ms: roundMs(performance.now() - started),
        timed_out: watch.timedOut,
        // Only an interpreter that died can have been OOM-killed; the context then has a fresh one.
        oom_killed: outcome.died && oom.killed(outcome.status),
        truncated: { stdout: stdout.truncated, stderr: stderr.truncated },
      };
    } finally {
      watch.disarm();
      this.running = undefined;
    }
  }
}

/** Calls `stop` once, on timeout or abort. */
function watchCell(request: CellRequest, stop: () => Promise<void>) {
  let timedOut = false;
  let stopping = false;
  const fire = () => {
    if (stopping) return;
    stopping = true;
    stop().catch(() => {});
  };
  const timer = setTimeout(() => {
    timedOut = true;
    fire();
  }, request.timeoutMs);
  request.signal.addEventListener("abort", fire, { once: true });
  if (request.signal.aborted) fire();
  return {
    get timedOut() {
      return timedOut;
    },
    disarm() {
      clearTimeout(timer);
      request.signal.removeEventListener("abort", fire);
    },
  };
}

async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const settled = await Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms))),
  ]);
  clearTimeout(timer);
  return settled;
}
