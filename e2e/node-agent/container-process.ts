/**
 * One run of a container: bubblewrap started in its own session and process group (pgid = bwrap's
 * pid), stdout and stderr appended to the container's log file. Stopping it is what a container
 * runtime does with a grace period: SIGTERM to every process of the group except bwrap itself (bwrap
 * would die of it and take the container down at once), then SIGKILL to the whole group, which ends
 * the PID namespace and with it anything that escaped into another group.
 */
import { closeSync, openSync } from "node:fs";
import { firstChild, groupMembers, signalGroup, signalPids } from "./process-group";

export interface ExitInfo {
  /** As a container runtime reports it: the process's code, or 128 + signal number. */
  readonly exitCode: number;
  readonly signal?: number;
}

export interface ContainerProcess {
  /** bwrap's pid; also the process group id. */
  readonly pid: number;
  /** Resolves once bwrap reported its PID 1 inside the namespace, undefined if it failed. */
  readonly namespacePid: Promise<number | undefined>;
  /** The container's main process (what `nsenter` targets: it has the container's root and cwd). */
  mainPid(): Promise<number | undefined>;
  readonly exited: Promise<ExitInfo>;
  /** SIGTERM the group (not bwrap), SIGKILL after `graceMs`; resolves when everything has exited. */
  stop(graceMs: number): Promise<ExitInfo>;
}

export interface StartOptions {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly logFile: string;
}

const SIGNALS: Readonly<Record<string, number>> = {
  SIGKILL: 9,
  SIGTERM: 15,
  SIGINT: 2,
  SIGHUP: 1,
  SIGABRT: 6,
  SIGSEGV: 11,
};

export function startContainerProcess(opts: StartOptions): ContainerProcess {
  const log = openSync(opts.logFile, "a", 0o640);
  let proc: Bun.Subprocess<"ignore", number, number>;
  try {
    proc = Bun.spawn([...opts.argv], {
      detached: true,
      env: { ...opts.env },
      stdio: ["ignore", log, log, "pipe"],
    }) as unknown as Bun.Subprocess<"ignore", number, number>;
  } finally {
    closeSync(log);
  }
  const infoFd = proc.stdio[3];
  const namespacePid = readInfo(typeof infoFd === "number" ? infoFd : undefined);
  const exited = proc.exited.then((code): ExitInfo => {
    const sig = proc.signalCode ? SIGNALS[proc.signalCode] : undefined;
    if (sig !== undefined) return { exitCode: 128 + sig, signal: sig };
    return code > 128 && code < 160 ? { exitCode: code, signal: code - 128 } : { exitCode: code };
  });
  const pid = proc.pid;
  return {
    pid,
    namespacePid,
    async mainPid() {
      const ns = await namespacePid;
      // bwrap forks the main process right after reporting; give it a moment to appear.
      for (let i = 0; ns !== undefined && i < 50; i++) {
        const pid = firstChild(ns);
        if (pid !== undefined) return pid;
        await Bun.sleep(20);
      }
      return undefined;
    },
    exited,
    async stop(graceMs) {
      const inner = await Promise.race([namespacePid, Bun.sleep(200).then(() => undefined)]);
      const spare = new Set([pid, inner]);
      // Twice: a process forked while the first signals went out still gets one.
      for (let i = 0; i < 2; i++) {
        signalPids(
          groupMembers(pid).filter((p) => !spare.has(p)),
          "SIGTERM",
        );
        if (i === 0) await Promise.race([exited, Bun.sleep(20)]);
      }
      const timer = setTimeout(() => signalGroup(pid, "SIGKILL"), Math.max(0, graceMs));
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
        // Whatever is left in the group (nothing, normally) goes with the sandbox.
        signalGroup(pid, "SIGKILL");
      }
    },
  };
}

/** bwrap writes `{"child-pid": N, ...}` to --info-fd once the namespace exists. */
async function readInfo(fd: number | undefined): Promise<number | undefined> {
  if (fd === undefined) return undefined;
  try {
    const text = await Bun.file(fd).text();
    const pid = (JSON.parse(text) as { "child-pid"?: unknown })["child-pid"];
    return typeof pid === "number" ? pid : undefined;
  } catch {
    return undefined;
  } finally {
    try {
      closeSync(fd);
    } catch {
      // Bun may have closed it with the stream
    }
  }
}
