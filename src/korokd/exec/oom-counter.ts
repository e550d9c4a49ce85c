/**
 * Tells an out-of-memory kill from any other SIGKILL. When a sandbox's memory limit is hit, the kernel's
 * OOM killer sends SIGKILL; the run then only shows exit 137, which looks like any other kill. The
 * sandbox's memory cgroup counts those kills: `oom_kill` in `memory.oom_control` (cgroup v1, Linux ≥ 4.13)
 * or in `memory.events` (cgroup v2). Korokd reads the counter before and after a run; a run that ended
 * by SIGKILL while the counter went up was killed for memory.
 *
 * The counter is per cgroup, not per process: a run killed by korokd itself while another run in the
 * same sandbox was OOM-killed would be misreported, which needs two runs dying in the same instant.
 * Where no counter file is readable (a host-process node, gVisor without cgroup files) nothing is
 * reported: `oom_killed` stays false.
 */
import { readFileSync } from "node:fs";

export interface OomCounter {
  /** OOM kills so far in korokd's memory cgroup, or undefined where there is no counter. */
  read(): number | undefined;
  /** The file read, for korokd's start-up log. */
  readonly source: string | undefined;
}

const V1_FILE = "memory.oom_control";
const V2_FILE = "memory.events";

/** The `oom_kill` count of a `memory.oom_control` (v1) or `memory.events` (v2) file; both use `key value` lines. */
export function parseOomKillCount(text: string): number | undefined {
  const match = /^oom_kill (\d+)$/m.exec(text);
  return match === null ? undefined : Number(match[1]);
}

/**
 * Candidate counter files for the memory cgroup named in a `/proc/self/cgroup` text, most specific first.
 * In a container the cgroup mount usually *is* korokd's cgroup (its path in /proc/self/cgroup is the
 * host's, which does not exist inside); on a host the path under the mount is the one.
 */
export function counterCandidates(procSelfCgroup: string, mount = "/sys/fs/cgroup"): string[] {
  const candidates: string[] = [];
  for (const line of procSelfCgroup.split("\n")) {
    const [, controllers, path] = /^\d+:([^:]*):(.*)$/.exec(line.trim()) ?? [];
    if (path === undefined || path === "/") continue;
    if (controllers?.split(",").includes("memory")) candidates.push(`${mount}/memory${path}/${V1_FILE}`);
    else if (controllers === "") candidates.push(`${mount}${path}/${V2_FILE}`);
  }
  candidates.push(`${mount}/memory/${V1_FILE}`, `${mount}/${V2_FILE}`);
  return candidates;
}

/** Picks the first candidate that can be read and parsed, once, at start. */
export function createOomCounter(
  candidates: readonly string[] = counterCandidates(readOrEmpty("/proc/self/cgroup")),
): OomCounter {
  const source = candidates.find((file) => parseOomKillCount(readOrEmpty(file)) !== undefined);
  return {
    source,
    read: () => (source === undefined ? undefined : parseOomKillCount(readOrEmpty(source))),
  };
}

/** Reads the counter now; `killed(exitCode)` says whether a run that ended so was OOM-killed since. */
export function watchOom(counter: OomCounter): { killed(exitCode: number): boolean } {
  const before = counter.read();
  return {
    killed(exitCode) {
      if (exitCode !== 128 + 9 || before === undefined) return false;
      const after = counter.read();
      return after !== undefined && after > before;
    },
  };
}

function readOrEmpty(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}
