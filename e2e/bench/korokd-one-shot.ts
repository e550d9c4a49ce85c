/**
 * Part of `bun run bench korokd`: one-shot python `print(1+1)` three ways, interleaved in one run —
 *   - korokd with its python fork server (a fork of the booted zygote per run; the default);
 *   - korokd with `--fork-server=false` (a pre-started `python3 -` per run, booted after the previous
 *     run: the path before the fork server), and the same with a request env (a cold spawn);
 *   - spawning `python3 -c` directly (no korokd).
 * Each korokd is its own process, so the CPU it and everything under it used (its own threads, live
 * children, and what reaped children used: utime+stime+cutime+cstime over the /proc tree) is charged to
 * its subject alone. For the direct spawn, the python processes' CPU (this process's reaped children)
 * is counted, nothing for spawning them. Idle RSS of each korokd's children (zygote or pre-started
 * interpreters) is compared too.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  mintToken,
  rssKiB,
  type SigningKey,
  spawnKorokd,
  type TestKeys,
} from "../../src/korokd/korokd-test-kit";

/** The system python (not a version-manager shim on PATH), for korokd and the baselines alike. */
export const PYTHON = "/usr/bin/python3";
const RUNS = 100;
const WARMUP = 5;
/** Pause between runs, as between an agent's calls; lets a pre-started interpreter finish booting. */
const GAP_MS = 30;
const TICK_MS = 1000 / 100;

export interface OneShotRow {
  readonly name: string;
  readonly p50: number;
  readonly p99: number;
  /** CPU time per run of korokd and everything under it (or of the spawned python). */
  readonly cpuMs: number;
}

interface Subject {
  readonly name: string;
  once(i: number): Promise<void>;
  /** Cumulative CPU clock ticks charged to this subject so far. */
  cpuTicks(): number;
}

interface Stat {
  readonly ppid: number;
  readonly ticks: number;
}

function readStat(pid: number): Stat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = text
      .slice(text.lastIndexOf(")") + 2)
      .split(" ")
      .map(Number);
    return {
      ppid: f[1] as number,
      ticks: (f[11] as number) + (f[12] as number) + (f[13] as number) + (f[14] as number),
    };
  } catch {
    return undefined;
  }
}

/** utime+stime+cutime+cstime of `root` and every live descendant. */
export function treeCpuTicks(root: number): number {
  const stats = new Map<number, Stat>();
  for (const name of readdirSync("/proc")) {
    const pid = Number(name);
    const stat = Number.isInteger(pid) ? readStat(pid) : undefined;
    if (stat !== undefined) stats.set(pid, stat);
  }
  const inTree = (pid: number): boolean => {
    for (let p = pid, hops = 0; p > 1 && hops < 64; hops++) {
      if (p === root) return true;
      p = stats.get(p)?.ppid ?? 0;
    }
    return false;
  };
  let ticks = 0;
  for (const [pid, stat] of stats) if (inTree(pid)) ticks += stat.ticks;
  return ticks;
}

function ownChildrenTicks(): number {
  const f = readFileSync("/proc/self/stat", "utf8").split(") ")[1]?.split(" ").map(Number) ?? [];
  return (f[13] as number) + (f[14] as number);
}

export function childrenRssKiB(parent: number): number {
  let total = 0;
  for (const pid of readFileSync(`/proc/${parent}/task/${parent}/children`, "utf8").trim().split(" ")) {
    if (pid !== "") total += rssKiB(Number(pid));
  }
  return total;
}

async function korokdSubject(name: string, url: string, pid: number, key: SigningKey, env?: object) {
  const tokens = await Promise.all(
    Array.from({ length: RUNS + WARMUP }, () => mintToken(key, { expiresInSeconds: 240 })),
  );
  const body = JSON.stringify({ language: "python", code: "print(1+1)", ...(env ? { env } : {}) });
  return {
    name,
    async once(i: number) {
      const r = await fetch(`${url}/api/execute`, {
        method: "POST",
        headers: { authorization: `Bearer ${tokens[i]}`, "content-type": "application/json" },
        body,
      });
      const result = (await r.json()) as { stdout?: string };
      if (result.stdout !== "2\n") throw new Error(`${name} answered ${JSON.stringify(result)}`);
    },
    cpuTicks: () => treeCpuTicks(pid),
  } satisfies Subject;
}

const spawnPython: Subject = {
  name: "spawn python3 -c (no korokd)",
  async once() {
    const proc = Bun.spawn({ cmd: [PYTHON, "-c", "print(1+1)"], stdout: "pipe", stderr: "inherit" });
    const out = await new Response(proc.stdout).text();
    await proc.exited;
    if (out !== "2\n") throw new Error(`python3 -c answered ${JSON.stringify(out)}`);
  },
  cpuTicks: ownChildrenTicks,
};

/** Rotates which subject goes first each round, so changing load hits all alike. */
async function interleave(subjects: readonly Subject[]): Promise<OneShotRow[]> {
  const samples = subjects.map(() => [] as number[]);
  const cpuStart: number[] = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    if (i === WARMUP) for (const s of subjects) cpuStart.push(s.cpuTicks());
    for (let k = 0; k < subjects.length; k++) {
      const index = (i + k) % subjects.length;
      const t0 = performance.now();
      await (subjects[index] as Subject).once(i);
      if (i >= WARMUP) (samples[index] as number[]).push(performance.now() - t0);
      await Bun.sleep(GAP_MS);
    }
  }
  await Bun.sleep(200); // the last pre-started interpreters finish booting: their CPU belongs to the runs
  return subjects.map((s, index) => {
    const sorted = (samples[index] as number[]).sort((a, b) => a - b);
    const at = (p: number) =>
      sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
    const cpuMs = ((s.cpuTicks() - (cpuStart[index] as number)) * TICK_MS) / RUNS;
    return { name: s.name, p50: at(50), p99: at(99), cpuMs };
  });
}

export interface OneShotReport {
  readonly forked: OneShotRow;
  readonly prestarted: OneShotRow;
  readonly cold: OneShotRow;
  readonly spawned: OneShotRow;
  /** RSS of korokd's children when idle: the zygote plus bun/bash/sh, vs. four pre-started ones. */
  readonly idleChildrenKiB: { readonly forkServer: number; readonly prestarted: number };
}

export async function measureOneShot(exe: string, keys: TestKeys, dir: string): Promise<OneShotReport> {
  const start = (name: string, forkServer: boolean) =>
    spawnKorokd(
      keys,
      {
        "workspace-dir": join(dir, name),
        "scratch-dir": dir,
        "log-level": "warn",
        "python-path": PYTHON,
        "fork-server": String(forkServer),
      },
      { executable: exe },
    );
  const daemons = [await start("ws-fork", true), await start("ws-pre", false), await start("ws-cold", false)];
  try {
    const [fork, pre, cold] = daemons as [(typeof daemons)[0], (typeof daemons)[0], (typeof daemons)[0]];
    await Bun.sleep(1000);
    const idleChildrenKiB = { forkServer: childrenRssKiB(fork.pid), prestarted: childrenRssKiB(pre.pid) };
    const subjects = [
      await korokdSubject("korokd one-shot python (fork server)", fork.url, fork.pid, keys.key),
      await korokdSubject(
        "korokd one-shot python (pre-started, --fork-server=false)",
        pre.url,
        pre.pid,
        keys.key,
      ),
      await korokdSubject(
        "korokd one-shot python (cold: request env, no fork server)",
        cold.url,
        cold.pid,
        keys.key,
        {
          BENCH: "1",
        },
      ),
      spawnPython,
    ];
    const [forked, prestarted, coldRow, spawned] = (await interleave(subjects)) as [
      OneShotRow,
      OneShotRow,
      OneShotRow,
      OneShotRow,
    ];
    return { forked, prestarted, cold: coldRow, spawned, idleChildrenKiB };
  } finally {
    for (const d of daemons) await d.stop();
  }
}
