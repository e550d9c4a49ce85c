/**
 * Runs one execution request, one-shot or in a context. `begin` does every check that must become an
 * HTTP status (unknown context, busy context, language mismatch, concurrency) *before* a streamed
 * response starts; what it returns runs the code and always frees the concurrency slot.
 */
import type { CodeContext } from "../contexts/code-context";
import type { ContextRegistry } from "../contexts/context-registry";
import { KorokdError } from "../korokd-error";
import type { ForkServer } from "./fork-server";
import type { InterpreterDirs } from "./interpreter";
import { type Language, runtimeOf } from "./languages";
import type { OomCounter } from "./oom-counter";
import type { RunLimiter } from "./run-limiter";
import { runOneShot } from "./run-one-shot";
import { interpreterRun, type RunProcess } from "./run-process";
import type { OutputListener, RunResult } from "./run-result";
import type { Env } from "./sandbox-env";
import type { WarmPool } from "./warm-pool";

export interface ExecuteRequest {
  readonly language: Language;
  readonly code: string;
  readonly timeoutMs: number;
  readonly env?: Env;
  readonly contextId?: string;
}

export interface RunControls {
  /** Aborts the run (client gone, shutdown): its processes are killed. */
  readonly signal: AbortSignal;
  readonly onOutput?: OutputListener;
}

export type StartRun = (controls: RunControls) => Promise<RunResult>;

export interface Executor {
  begin(request: ExecuteRequest): StartRun;
}

export interface ExecutorOptions {
  readonly pool: WarmPool;
  /** Serves one-shot python runs when present and able to; otherwise they take the pool's path. */
  readonly forkServer?: ForkServer | undefined;
  readonly limiter: RunLimiter;
  readonly contexts: ContextRegistry;
  readonly dirs: InterpreterDirs;
  readonly outputLimitBytes: number;
  readonly killGraceMs: number;
  readonly oom: OomCounter;
  /** Called after each one-shot run (the orphan reaper looks for leftovers then). */
  readonly afterRun: () => void;
}

export function createExecutor(options: ExecutorOptions): Executor {
  return {
    begin(request) {
      const context = request.contextId === undefined ? undefined : contextFor(request, options);
      const release = options.limiter.tryAcquire();
      if (release === undefined) {
        throw new KorokdError("too_many_runs", "too many executions are running; retry shortly", {
          retryAfterSeconds: 1,
        });
      }
      return async (controls) => {
        try {
          if (context !== undefined) return await runInContext(context, request, controls, options);
          return await runFresh(request, controls, options);
        } finally {
          release();
        }
      };
    },
  };
}

function contextFor(request: ExecuteRequest, options: ExecutorOptions): CodeContext {
  const context = options.contexts.get(request.contextId as string);
  if (context.language !== request.language) {
    throw new KorokdError(
      "context_language_mismatch",
      `context ${context.id} runs ${context.language}, not ${request.language}`,
    );
  }
  if (request.env !== undefined) {
    throw new KorokdError("invalid_request", "env cannot change a running context; pass it when creating it");
  }
  if (context.busy)
    throw new KorokdError("context_busy", `context ${context.id} is running another execution`);
  return context;
}

function runInContext(
  context: CodeContext,
  request: ExecuteRequest,
  controls: RunControls,
  options: ExecutorOptions,
): Promise<RunResult> {
  return context.execute({
    code: request.code,
    timeoutMs: request.timeoutMs,
    outputLimitBytes: options.outputLimitBytes,
    signal: controls.signal,
    ...(controls.onOutput ? { onOutput: controls.onOutput } : {}),
  });
}

async function runFresh(request: ExecuteRequest, controls: RunControls, options: ExecutorOptions) {
  try {
    return await runOneShot({
      process: await launch(request, options),
      limits: {
        timeoutMs: request.timeoutMs,
        outputLimitBytes: options.outputLimitBytes,
        killGraceMs: options.killGraceMs,
      },
      signal: controls.signal,
      oom: options.oom,
      ...(controls.onOutput ? { onOutput: controls.onOutput } : {}),
    });
  } finally {
    options.afterRun();
  }
}

/** A forked python when the fork server can serve the run, otherwise a (pre-)started interpreter. */
async function launch(request: ExecuteRequest, options: ExecutorOptions): Promise<RunProcess> {
  if (request.language === "python" && options.forkServer !== undefined) {
    const forked = await options.forkServer.launch(request.code, request.env);
    if (forked !== undefined) return forked;
  }
  const { interpreter } = options.pool.take(runtimeOf(request.language), request.env);
  return interpreterRun(interpreter, request.code, request.language, options.dirs);
}
