/**
 * Serves one-shot python runs by forking a booted interpreter (the zygote, see zygote-program.ts)
 * instead of booting one per run: a run costs a fork, not an interpreter start. The zygote replaces
 * the pre-started python of the warm pool.
 *
 * Whenever the zygote cannot serve a run (still booting, dead, or the request sets a variable python
 * reads while it boots) `launch` returns undefined and the caller takes today's spawn path. A zygote
 * that dies is replaced at once (with growing back-off while it keeps dying young). Its children still
 * running then are orphans: their end is watched through /proc, and their exit status read from the
 * zombie while korokd, as subreaper, holds it (elsewhere the status is lost: 255 is reported).
 */
import { closeSync } from "node:fs";
import type { Logger } from "../../log/logger";
import { KorokdError } from "../korokd-error";
import type { SpawnedChild } from "./interpreter";
import { readProcStat } from "./process-tree";
import type { RunProcess } from "./run-process";
import { type Env, sandboxEnv } from "./sandbox-env";
import { makeNonDumpable } from "./unix-fds";
import { type ForkedChild, startZygote, type Zygote } from "./zygote-process";

export interface ForkServerOptions {
  readonly python: string;
  readonly workspace: string;
  readonly baseEnv: Env;
  readonly onSpawn: (child: SpawnedChild) => void;
  readonly log: Logger;
}

export interface ForkServer {
  /** A run forked from the zygote, or undefined when this one must be spawned the usual way. */
  launch(code: string, requestEnv: Env | undefined): Promise<RunProcess | undefined>;
  /** Resolves once a zygote is ready (true) or after `timeoutMs` (false). */
  ready(timeoutMs: number): Promise<boolean>;
  /** The current zygote's pid while one is ready. */
  readonly zygotePid: number | undefined;
  stop(): void;
}

/** Variables python reads while it boots (`PYTHON*`, locale, the user site under HOME). */
const BOOT_VARIABLES = /^(PYTHON|LC_)|^(HOME|LANG|LANGUAGE)$/;
const ORPHAN_POLL_MS = 20;
/** Exit status of an orphan reaped by someone else before korokd saw it. */
const STATUS_LOST = 255;
const BACKOFF_MAX_MS = 5000;
/** A zygote that lived this long is healthy: the next restart is immediate again. */
const HEALTHY_AFTER_MS = 10_000;

export function createForkServer(options: ForkServerOptions): ForkServer {
  if (!makeNonDumpable()) {
    options.log.warn("korokd could not make itself non-dumpable; runs may reach the zygote's pipes");
  }
  let current: Zygote | undefined;
  let serving: Zygote | undefined;
  let stopped = false;
  let youngDeaths = 0;
  let restart: ReturnType<typeof setTimeout> | undefined;

  function boot(): void {
    if (stopped) return;
    const startedAt = performance.now();
    let zygote: Zygote;
    try {
      zygote = startZygote({
        python: options.python,
        env: options.baseEnv,
        workspace: options.workspace,
        onSpawn: options.onSpawn,
        onStderr: (line) => options.log.warn("python zygote", { stderr: line }),
      });
    } catch (err) {
      options.log.warn("could not start the python zygote", { error: String(err) });
      scheduleBoot(performance.now() - startedAt);
      return;
    }
    current = zygote;
    void zygote.ready.then((ok) => {
      if (ok && current === zygote) serving = zygote;
    });
    void zygote.exited.then(() => {
      if (serving === zygote) serving = undefined;
      if (current === zygote) current = undefined;
      const orphans = zygote.orphans();
      for (const [pid, resolve] of orphans) watchOrphan(pid, options.onSpawn).then(resolve, () => {});
      if (stopped) return;
      options.log.warn("python zygote exited; restarting it, python runs are spawned meanwhile", {
        pid: zygote.pid,
        runningChildren: orphans.size,
      });
      scheduleBoot(performance.now() - startedAt);
    });
  }

  /** Immediate after a healthy life; after each young death in a row twice as long, up to a cap. */
  function scheduleBoot(livedMs: number): void {
    youngDeaths = livedMs >= HEALTHY_AFTER_MS ? 0 : youngDeaths + 1;
    const delay = youngDeaths <= 1 ? 0 : Math.min(BACKOFF_MAX_MS, 100 * 2 ** (youngDeaths - 2));
    restart = setTimeout(boot, delay);
  }

  boot();
  return {
    async launch(code, requestEnv) {
      const zygote = serving;
      if (zygote === undefined || Object.keys(requestEnv ?? {}).some((k) => BOOT_VARIABLES.test(k))) {
        return undefined;
      }
      let child: ForkedChild | undefined;
      try {
        child = await zygote.fork(sandboxEnv(options.baseEnv, requestEnv, {}), code);
      } catch (err) {
        // The zygote may have forked before it died: running the program again could run it twice.
        throw new KorokdError("internal", "the python fork server failed while starting the run", {
          cause: err,
        });
      }
      if (child === undefined) options.log.warn("the python zygote could not fork; spawning the run");
      return child === undefined ? undefined : forkedRun(child);
    },
    async ready(timeoutMs) {
      const deadline = performance.now() + timeoutMs;
      while (serving === undefined && !stopped && performance.now() < deadline) await Bun.sleep(5);
      return serving !== undefined;
    },
    get zygotePid() {
      return serving?.pid;
    },
    stop() {
      stopped = true;
      clearTimeout(restart);
      current?.kill();
    },
  };
}

function forkedRun(child: ForkedChild): RunProcess {
  return {
    pid: child.pid,
    stdout: Bun.file(child.stdoutFd).stream(),
    stderr: Bun.file(child.stderrFd).stream(),
    exited: child.exited,
    start: async () => {},
    async release() {
      closeSync(child.stdoutFd);
      closeSync(child.stderrFd);
    },
  };
}

/**
 * Waits for the end of a process whose parent (the zygote) died. As subreaper korokd holds its
 * zombie until the orphan reaper sweeps, which it does not for a tracked pid: the status is read first.
 */
function watchOrphan(pid: number, track: (child: SpawnedChild) => void): Promise<number> {
  const first = readProcStat(pid);
  const exited = (async () => {
    for (;;) {
      const stat = readProcStat(pid);
      if (stat === undefined || stat.start !== first?.start) return STATUS_LOST;
      if (stat.state === "Z") return shellStatus(stat.waitStatus);
      await Bun.sleep(ORPHAN_POLL_MS);
    }
  })();
  track({ pid, exited });
  return exited;
}

function shellStatus(status: number): number {
  const signal = status & 0x7f;
  return signal === 0 ? (status >> 8) & 0xff : 128 + signal;
}
