/**
 * Reaps processes orphaned by killed runs. When a run's shell dies, its `sleep 1000 &` is re-parented
 * to the nearest "child subreaper" or to PID 1; in a container korokd often *is* PID 1, and Bun only
 * waits for the children it spawned itself, so such orphans would stay zombies forever and eat the pod's
 * pid limit. As a subreaper (prctl PR_SET_CHILD_SUBREAPER, Linux ≥ 3.4) korokd adopts them and waits
 * for each zombie child it did not spawn itself; its own children stay Bun's business.
 */
import { dlopen, FFIType } from "bun:ffi";
import type { Logger } from "../../log/logger";
import type { SpawnedChild } from "./interpreter";
import { listProcesses } from "./process-tree";

export interface OrphanReaper {
  /** Marks a process korokd spawned itself: Bun reaps it, the reaper must not. */
  track(child: SpawnedChild): void;
  /** Schedules a sweep soon (after a run was killed). */
  poke(): void;
  /** Reaps what is there now; returns how many zombies were reaped. */
  sweep(): number;
  readonly enabled: boolean;
  stop(): void;
}

const PR_SET_CHILD_SUBREAPER = 36;
const WNOHANG = 1;

export function createOrphanReaper(options: {
  enabled: boolean;
  intervalMs: number;
  log: Logger;
}): OrphanReaper {
  const own = new Set<number>();
  const libc = options.enabled ? loadLibc(options.log) : undefined;
  if (libc !== undefined && libc.symbols.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) !== 0) {
    options.log.warn("could not become a child subreaper; orphans are left to PID 1");
  }
  let pending: ReturnType<typeof setTimeout> | undefined;

  function sweep(): number {
    if (libc === undefined) return 0;
    let reaped = 0;
    for (const p of listProcesses()) {
      if (p.state !== "Z" || p.ppid !== process.pid || own.has(p.pid)) continue;
      if (libc.symbols.waitpid(p.pid, null, WNOHANG) === p.pid) reaped++;
    }
    return reaped;
  }

  const timer = libc === undefined ? undefined : setInterval(sweep, options.intervalMs);
  timer?.unref();

  return {
    enabled: libc !== undefined,
    track(child) {
      if (libc === undefined) return;
      own.add(child.pid);
      void child.exited.finally(() => own.delete(child.pid));
    },
    poke() {
      if (libc === undefined || pending !== undefined) return;
      pending = setTimeout(() => {
        pending = undefined;
        sweep();
      }, 50);
      pending.unref();
    },
    sweep,
    stop() {
      clearInterval(timer);
      clearTimeout(pending);
    },
  };
}

function loadLibc(log: Logger) {
  try {
    return dlopen("libc.so.6", {
      prctl: {
        args: [FFIType.i32, FFIType.u64, FFIType.u64, FFIType.u64, FFIType.u64],
        returns: FFIType.i32,
      },
      waitpid: { args: [FFIType.i32, FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
    });
  } catch (err) {
    log.warn("libc not loadable; orphan reaping disabled", { error: String(err) });
    return undefined;
  }
}
