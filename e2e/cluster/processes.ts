/**
 * Starting and stopping the cluster's daemons. Each runs detached in its own process group with its
 * output in `<dir>/logs/<name>.log`, so `cluster up` can exit and `cluster down` (or a later `up`) can
 * find and stop everything: every daemon's command line names the cluster directory.
 */
import { spawn } from "node:child_process";
import { openSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export function startDaemon(
  dir: string,
  name: string,
  argv: readonly string[],
  env?: Record<string, string>,
): number {
  const log = openSync(join(dir, "logs", `${name}.log`), "a");
  const child = spawn(argv[0] as string, argv.slice(1), {
    detached: true,
    stdio: ["ignore", log, log],
    env: { ...process.env, ...env },
    cwd: dir,
  });
  child.unref();
  if (child.pid === undefined) throw new Error(`could not start ${name}`);
  return child.pid;
}

/** Pids of live processes whose command line mentions `needle` (the cluster directory). */
export function processesMentioning(needle: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (cmdline.includes(needle)) found.push(Number(entry));
    } catch {
      // the process exited while we looked
    }
  }
  return found;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, sig);
    } catch {
      // already gone, or not a group leader
    }
  }
}

/** SIGTERM each process group, wait up to `graceMs`, then SIGKILL whatever is left. */
export async function stopProcesses(pids: readonly number[], graceMs: number): Promise<void> {
  for (const pid of pids) signal(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && pids.some(isAlive)) await Bun.sleep(50);
  for (const pid of pids.filter(isAlive)) signal(pid, "SIGKILL");
  while (pids.some(isAlive)) await Bun.sleep(20);
}

export async function freePort(): Promise<number> {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}
