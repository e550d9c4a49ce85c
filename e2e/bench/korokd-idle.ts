/**
 * Part of `bun run bench korokd`: what a korokd costs at rest, as a warm pool's pod does while it waits
 * for its claim. The compiled executable with the environment the code-interpreter image gives it
 * (e2e/images/korokd-env.ts) and the same executable with Bun's defaults are started side by side (what
 * korokd gives its own Bun interpreters, src/korokd/exec/languages.ts, is the same in both), with
 * korokd's default settings (JWKS looked at every second, interpreters pre-started), and measured over
 * the same window: CPU per second of korokd and every process under it (python zygote, pre-started
 * shells), from each thread's run time in /proc/<pid>/task/<tid>/schedstat (nanoseconds: clock ticks
 * are too coarse for a few milliseconds per second), korokd's wake-ups per second, and its PSS.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { processTree } from "../../src/korokd/exec/process-tree";
import { spawnKorokd, type TestKeys } from "../../src/korokd/korokd-test-kit";
import { KOROKD_IMAGE_ENV } from "../images/korokd-env";
import { PYTHON } from "./korokd-one-shot";

/** After korokd reports ready: its interpreters boot, and the collections its warm-up set off are over. */
const SETTLE_MS = 15_000;
const WINDOW_MS = 20_000;

export interface IdleRow {
  readonly name: string;
  /** CPU of korokd and its descendants, ms per second of wall time. */
  readonly cpuMsPerS: number;
  /** Of it, korokd's own threads. */
  readonly korokdMsPerS: number;
  /** Times korokd's threads were scheduled onto a CPU, per second. */
  readonly wakeupsPerS: number;
  readonly pssMiB: number;
}

/** Run time (ns) and timeslices of each thread: `pid/tid` → [ns, slices]. */
type Threads = Map<string, readonly [number, number]>;

interface Sample {
  readonly tree: Threads;
  readonly own: Threads;
}

function threadsOf(pid: number, into: Threads): void {
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const [run, , slices] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8")
        .split(" ")
        .map(Number);
      into.set(`${pid}/${tid}`, [run ?? 0, slices ?? 0]);
    }
  } catch {
    // Exited between listing and reading.
  }
}

/** Korokd's threads, and those of every live process under it (korokd's own process-tree walk). */
function sample(root: number): Sample {
  const tree: Threads = new Map();
  for (const pid of [root, ...processTree(root).map((p) => p.pid)]) threadsOf(pid, tree);
  const own: Threads = new Map([...tree].filter(([id]) => id.startsWith(`${root}/`)));
  return { tree, own };
}

/**
 * What the threads alive at the end used in the window: a thread started in it counts from zero. One
 * that ended in it is missed (its run time leaves /proc with it), so this errs low, alike for both.
 */
function used(before: Threads, after: Threads, field: 0 | 1): number {
  let total = 0;
  for (const [id, now] of after) total += now[field] - (before.get(id)?.[field] ?? 0);
  return total;
}

function pssMiB(pid: number): number {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  return Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? Number.NaN) / 1024;
}

export async function measureIdle(exe: string, keys: TestKeys, dir: string): Promise<IdleRow[]> {
  const { PATH: _path, ...imageEnv } = KOROKD_IMAGE_ENV;
  const variants = [
    { name: "korokd as the image runs it", env: imageEnv },
    { name: "korokd itself with Bun's defaults (no image environment)", env: {} },
  ];
  const daemons = await Promise.all(
    variants.map((v, i) =>
      spawnKorokd(
        keys,
        {
          "workspace-dir": join(dir, `idle-ws-${i}`),
          "scratch-dir": dir,
          "log-level": "warn",
          "python-path": PYTHON,
        },
        { executable: exe, env: v.env },
      ),
    ),
  );
  try {
    await Bun.sleep(SETTLE_MS);
    const before = daemons.map((d) => sample(d.pid));
    const started = performance.now();
    await Bun.sleep(WINDOW_MS);
    const after = daemons.map((d) => sample(d.pid));
    const seconds = (performance.now() - started) / 1000;
    return variants.map((v, i) => {
      const a = before[i] as Sample;
      const b = after[i] as Sample;
      return {
        name: v.name,
        cpuMsPerS: used(a.tree, b.tree, 0) / 1e6 / seconds,
        korokdMsPerS: used(a.own, b.own, 0) / 1e6 / seconds,
        wakeupsPerS: used(a.own, b.own, 1) / seconds,
        pssMiB: pssMiB(daemons[i]?.pid ?? 0),
      };
    });
  } finally {
    await Promise.all(daemons.map((d) => d.stop()));
  }
}
