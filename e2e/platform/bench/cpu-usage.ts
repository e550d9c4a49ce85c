/**
 * Where the machine's CPU went between two snapshots, by part of the platform: the control plane
 * (etcd, kube-apiserver, scheduler, controller-manager: found by the cluster directory on their command
 * line), the node agent, and the pods by component (process trees, see pod-memory.ts), against the whole
 * machine (/proc/stat), whose rest is other work on the shared host. A process that ended between the
 * snapshots is missing from its part (its parent's reaped-children time counts once it is reaped).
 */
import { readdirSync, readFileSync } from "node:fs";
import { podProcesses } from "./pod-memory";

const TICK_S = 0.01; // USER_HZ is 100 on Linux

export type CpuSnapshot = ReadonlyMap<string, number>;

function processCpuS(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime, stime, cutime, cstime are fields 14-17 (1-based), i.e. 11-14 after the comm.
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * TICK_S;
  } catch {
    return 0;
  }
}

/**
 * The machine's busy time (user, nice, system, irq, softirq; guest time is already inside user) and its
 * steal time (the hypervisor ran someone else while this VM wanted a CPU), from the first line of /proc/stat.
 */
function machineS(): { busy: number; steal: number } {
  const f = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "").split(/\s+/).slice(1).map(Number);
  const at = (i: number) => f[i] ?? 0;
  return { busy: (at(0) + at(1) + at(2) + at(5) + at(6)) * TICK_S, steal: at(7) * TICK_S };
}

function commandLine(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return "";
  }
}

/** CPU seconds so far by part; `pods` maps pod name → part name (e.g. "korokd pods"). */
export function cpuSnapshot(clusterDir: string, pods: ReadonlyMap<string, string>): CpuSnapshot {
  const machine = machineS();
  const out = new Map<string, number>([
    ["machine (all work)", machine.busy],
    ["stolen by the hypervisor", machine.steal],
  ]);
  const add = (part: string, s: number) => out.set(part, (out.get(part) ?? 0) + s);
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    const cmd = commandLine(pid);
    if (!cmd.includes(clusterDir)) continue;
    const part = /kube-apiserver|etcd|kube-scheduler|kube-controller-manager|node-agent\/main\.ts/.exec(
      cmd,
    )?.[0];
    if (part) add(part.replace("node-agent/main.ts", "node agent"), processCpuS(Number(pid)));
  }
  for (const [pod, pids] of podProcesses([...pods.keys()])) {
    add(
      pods.get(pod) ?? "pods",
      pids.reduce((s, pid) => s + processCpuS(pid), 0),
    );
  }
  return out;
}

/** CPU seconds used by each part between two snapshots, largest first. */
export function cpuDelta(before: CpuSnapshot, after: CpuSnapshot): [string, number][] {
  return [...after]
    .map(([part, s]): [string, number] => [part, s - (before.get(part) ?? 0)])
    .sort((a, b) => b[1] - a[1]);
}
