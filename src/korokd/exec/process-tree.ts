/**
 * Finding and killing everything a run started. Each interpreter leads its own process group
 * (setsid at spawn), and a shell's `sleep 1000 &` stays in that group, so signalling the group reaches
 * grandchildren. A descendant that moved to another group or session is still found through its
 * parent links as long as its parents live; both sets are signalled.
 */
import { readdirSync, readFileSync } from "node:fs";

interface ProcStat {
  readonly pid: number;
  readonly ppid: number;
  readonly pgid: number;
  readonly state: string;
  /** Start time in clock ticks since boot: tells a reused pid from the process seen earlier. */
  readonly start: string;
  /** User plus system CPU time so far, in clock ticks. */
  readonly cpuTicks: number;
  /** A zombie's wait status (as waitpid reports it); 0 while running or when not permitted. */
  readonly waitStatus: number;
}

/** Parses /proc/<pid>/stat; the command name may contain spaces and parentheses, so split after the last ')'. */
export function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return {
    pid,
    state: fields[0] ?? "?",
    ppid: Number(fields[1]),
    pgid: Number(fields[2]),
    start: fields[19] ?? "",
    cpuTicks: Number(fields[11]) + Number(fields[12]),
    waitStatus: Number(fields[49] ?? 0),
  };
}

export function listProcesses(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of readdirSync("/proc")) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const stat = readProcStat(pid);
    if (stat !== undefined) out.push(stat);
  }
  return out;
}

/** Live (non-zombie) members of the group led by `leader`, plus live descendants of `leader`. */
export function processTree(leader: number, all: readonly ProcStat[] = listProcesses()): ProcStat[] {
  const live = all.filter((p) => p.state !== "Z");
  const found = new Map<number, ProcStat>();
  const children = new Map<number, ProcStat[]>();
  for (const p of live) {
    if (p.pgid === leader) found.set(p.pid, p);
    const siblings = children.get(p.ppid);
    if (siblings) siblings.push(p);
    else children.set(p.ppid, [p]);
  }
  const queue = [leader];
  while (queue.length > 0) {
    const pid = queue.pop() as number;
    for (const child of children.get(pid) ?? []) {
      if (!found.has(child.pid)) queue.push(child.pid);
      found.set(child.pid, child);
    }
  }
  return [...found.values()];
}

/** Signals a process group; false when it no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  return sendSignal(-pgid, signal);
}

/**
 * SIGTERM to the whole tree; once it is gone or `graceMs` passed, SIGKILL to whatever is left,
 * including processes seen in the first pass that have since left the group (same pid *and* start time,
 * so a recycled pid is never hit).
 */
export async function terminateTree(leader: number, graceMs: number): Promise<void> {
  const seen = new Map<number, ProcStat>();
  const signalAll = (signal: NodeJS.Signals) => {
    signalGroup(leader, signal);
    const all = listProcesses();
    for (const p of processTree(leader, all)) seen.set(p.pid, p);
    const byPid = new Map(all.map((p) => [p.pid, p]));
    for (const p of seen.values()) {
      const now = byPid.get(p.pid);
      if (now !== undefined && now.start === p.start && now.state !== "Z") sendSignal(p.pid, signal);
    }
  };
  signalAll("SIGTERM");
  const deadline = performance.now() + graceMs;
  while (performance.now() < deadline && processTree(leader).length > 0) await Bun.sleep(20);
  signalAll("SIGKILL");
}

function sendSignal(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}
