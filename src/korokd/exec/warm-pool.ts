/**
 * One pre-started interpreter per runtime, waiting for its program. A one-shot run still gets a fresh
 * process, but one whose start-up (exec, dynamic linking, interpreter boot) already happened; the next
 * one is started in the background right after. A request with its own `env` cannot use a process
 * started with the base environment, so it gets a cold one.
 */
import type { Logger } from "../../log/logger";
import {
  type Interpreter,
  type InterpreterDirs,
  type PipedProcess,
  type SpawnedChild,
  spawnInterpreter,
} from "./interpreter";
import { launchSpec, type RuntimeKind, type RuntimePaths } from "./languages";
import { readProcStat, signalGroup } from "./process-tree";
import { type Env, sandboxEnv } from "./sandbox-env";

export interface WarmPoolOptions {
  readonly enabled: boolean;
  readonly runtimes: readonly RuntimeKind[];
  readonly paths: RuntimePaths;
  readonly dirs: InterpreterDirs;
  readonly baseEnv: Env;
  readonly onSpawn: (child: SpawnedChild) => void;
  readonly log: Logger;
}

export interface WarmPool {
  /** A started interpreter for `runtime`: the waiting one when possible, otherwise a new one. */
  take(runtime: RuntimeKind, requestEnv: Env | undefined): { interpreter: Interpreter; warm: boolean };
  /** Starts the missing warm interpreters (at boot and after each take). */
  fill(): void;
  /**
   * Resolves once every waiting interpreter is done booting (asleep, e.g. on its stdin, and using no
   * CPU across two looks) or after `timeoutMs`, whichever comes first.
   */
  settled(timeoutMs: number): Promise<void>;
  stop(): void;
}

/** Between two looks at a booting interpreter; a clock tick is 10 ms. */
const SETTLE_LOOK_MS = 20;

export function createWarmPool(options: WarmPoolOptions): WarmPool {
  const waiting = new Map<RuntimeKind, Interpreter>();
  let stopped = false;

  const spawn = (runtime: RuntimeKind, requestEnv: Env | undefined) => {
    const spec = launchSpec(runtime, options.paths);
    const env = sandboxEnv(options.baseEnv, requestEnv, spec.forcedEnv);
    return spawnInterpreter(spec, env, options.dirs, options.onSpawn);
  };

  function fill(): void {
    if (!options.enabled || stopped) return;
    for (const runtime of options.runtimes) {
      if (waiting.has(runtime)) continue;
      try {
        waiting.set(runtime, spawn(runtime, undefined));
      } catch (err) {
        options.log.warn("could not pre-start interpreter", { runtime, error: String(err) });
      }
    }
  }

  return {
    take(runtime, requestEnv) {
      const ready = requestEnv === undefined ? waiting.get(runtime) : undefined;
      if (ready !== undefined) waiting.delete(runtime);
      // Refill after the current run got its program, not before: the spawn would only delay it.
      if (options.enabled) setImmediate(fill);
      if (ready !== undefined && isAlive(ready.proc)) return { interpreter: ready, warm: true };
      if (ready !== undefined) options.log.warn("pre-started interpreter had exited", { runtime });
      return { interpreter: spawn(runtime, requestEnv), warm: false };
    },
    fill,
    async settled(timeoutMs) {
      const deadline = performance.now() + timeoutMs;
      let last = "";
      while (performance.now() < deadline) {
        const now = [...waiting.values()].map((i) => readProcStat(i.proc.pid));
        const look = now.map((p) => `${p?.pid}:${p?.cpuTicks}`).join(",");
        if (now.every((p) => p === undefined || p.state === "S") && look === last) return;
        last = look;
        await Bun.sleep(SETTLE_LOOK_MS);
      }
    },
    stop() {
      stopped = true;
      for (const { proc } of waiting.values()) signalGroup(proc.pid, "SIGKILL");
      waiting.clear();
    },
  };
}

function isAlive(proc: PipedProcess): boolean {
  return proc.exitCode === null && proc.signalCode === null;
}
