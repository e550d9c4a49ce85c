/**
 * Memory of pods on the host-process node, read from /proc. A pod's processes are found through the one
 * that carries `POD_NAME` (the downward API sets it in agentland's pods): its container is the tree under
 * the outermost `bwrap` above it, which holds the program and everything it started (korokd's
 * pre-started interpreters included, whose environment is scrubbed). RSS counts shared pages (the Bun
 * executable, libraries) once per process; PSS divides them among the processes sharing them, so the
 * PSS sum is what the pods really cost the machine.
 */
import { readdirSync, readFileSync } from "node:fs";

export interface PodMemory {
  readonly pod: string;
  readonly processes: number;
  /** Sum of VmRSS over the pod's processes, MiB. */
  readonly rssMiB: number;
  /** Sum of VmHWM (each process's peak RSS), MiB: an upper bound of the pod's peak. */
  readonly peakMiB: number;
  /** Sum of Pss (only when asked for: reading smaps costs a page-table walk per process), MiB. */
  readonly pssMiB?: number;
}

interface Proc {
  readonly pid: number;
  readonly ppid: number;
  readonly comm: string;
}

function readProcs(): Map<number, Proc> {
  const procs = new Map<number, Proc>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      const ppid = Number(stat.slice(close + 2).split(" ")[1]);
      procs.set(Number(entry), { pid: Number(entry), ppid, comm });
    } catch {
      // exited while we looked
    }
  }
  return procs;
}

function podNameOf(pid: number): string | undefined {
  try {
    return /(?:^|\0)POD_NAME=([^\0]*)/.exec(readFileSync(`/proc/${pid}/environ`, "utf8"))?.[1];
  } catch {
    return undefined;
  }
}

const kib = (text: string, key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? 0);

function processMemory(pid: number, pss: boolean): { rss: number; hwm: number; pss: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const rollup = pss ? readFileSync(`/proc/${pid}/smaps_rollup`, "utf8") : "";
    return { rss: kib(status, "VmRSS"), hwm: kib(status, "VmHWM"), pss: pss ? kib(rollup, "Pss") : 0 };
  } catch {
    return { rss: 0, hwm: 0, pss: 0 };
  }
}

/** The processes of each pod named (others are ignored): the container trees under their outermost bwrap. */
export function podProcesses(pods: readonly string[]): Map<string, number[]> {
  const wanted = new Set(pods);
  const procs = readProcs();
  const children = new Map<number, number[]>();
  for (const p of procs.values()) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
  const roots = new Map<string, Set<number>>();
  for (const p of procs.values()) {
    const pod = podNameOf(p.pid);
    if (pod === undefined || !wanted.has(pod)) continue;
    let root = p;
    for (let up = procs.get(root.ppid); up?.comm === "bwrap"; up = procs.get(up.ppid)) root = up;
    roots.set(pod, (roots.get(pod) ?? new Set()).add(root.pid));
  }
  const out = new Map<string, number[]>();
  for (const [pod, rootPids] of roots) {
    const seen = new Set<number>();
    const stack = [...rootPids];
    while (stack.length > 0) {
      const pid = stack.pop() as number;
      if (seen.has(pid)) continue;
      seen.add(pid);
      stack.push(...(children.get(pid) ?? []));
    }
    out.set(pod, [...seen]);
  }
  return out;
}

/** Memory per pod for the pods named; pods without a live process are left out. */
export function podMemory(pods: readonly string[], opts: { pss?: boolean } = {}): PodMemory[] {
  const out: PodMemory[] = [];
  for (const [pod, pids] of podProcesses(pods)) {
    let rss = 0;
    let hwm = 0;
    let pss = 0;
    for (const pid of pids) {
      const m = processMemory(pid, opts.pss === true);
      rss += m.rss;
      hwm += m.hwm;
      pss += m.pss;
    }
    out.push({
      pod,
      processes: pids.length,
      rssMiB: rss / 1024,
      peakMiB: hwm / 1024,
      ...(opts.pss ? { pssMiB: pss / 1024 } : {}),
    });
  }
  return out;
}

export const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
