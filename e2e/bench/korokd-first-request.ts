/**
 * Part of `bun run bench korokd`: the first request a freshly started korokd serves (what a pool pod's
 * first claim gets) next to that process's later requests, with the warm-up korokd does before
 * reporting ready and without it (`--warm-up=false`, the baseline), over several fresh processes.
 * Two probes, each first in its own processes:
 *   - `print(1+1)` one-shot: the whole path, dominated by the interpreter;
 *   - an authenticated `GET /api/contexts`: HTTP, token check and routing only, where korokd's own cold
 *     start shows without the interpreter's noise.
 * Warm-up on and off alternate process by process, so a shared machine's load hits both alike.
 */
import { join } from "node:path";
import { mintToken, spawnKorokd, type TestKeys } from "../../src/korokd/korokd-test-kit";

const PROCESSES_PER_CASE = 5;
/** A pool pod sits ready for a while before its claim; its pre-started interpreter has booted by then. */
const IDLE_BEFORE_CLAIM_MS = 500;

interface Probe {
  readonly name: string;
  readonly later: number;
  /** Before each later request; for runs long enough for the next pre-started interpreter to boot. */
  readonly gapMs: number;
  send(url: string, token: string): Promise<void>;
}

const PROBES: readonly Probe[] = [
  {
    name: "one-shot print(1+1)",
    later: 6,
    gapMs: 200,
    async send(url, token) {
      const r = await fetch(`${url}/api/execute`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ language: "python", code: "print(1+1)" }),
      });
      const body = (await r.json()) as { stdout?: string };
      if (body.stdout !== "2\n") throw new Error(`fresh korokd answered ${JSON.stringify(body)}`);
    },
  },
  {
    name: "authenticated GET /api/contexts",
    later: 8,
    gapMs: 20,
    async send(url, token) {
      const r = await fetch(`${url}/api/contexts`, { headers: { authorization: `Bearer ${token}` } });
      if (r.status !== 200) throw new Error(`fresh korokd answered ${r.status}: ${await r.text()}`);
      await r.arrayBuffer();
    },
  },
];

interface Sample {
  readonly first: number;
  /** Median of the same process's later requests. */
  readonly later: number;
  /** From spawn to ready (warm-up included). */
  readonly ready: number;
}

export interface FirstRequestRow {
  readonly probe: string;
  readonly warmUp: boolean;
  readonly first: number;
  readonly later: number;
  readonly ready: number;
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/** Waits for /health as the kubelet's readiness probe would, on connections that are then closed. */
async function waitReady(url: string): Promise<void> {
  const deadline = performance.now() + 20_000;
  while (performance.now() < deadline) {
    const ok = await fetch(`${url}/health`, { keepalive: false }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await Bun.sleep(10);
  }
  throw new Error(`korokd at ${url} never became ready`);
}

/** One fresh korokd: ready, idle, then its first request on a new connection, then later ones. */
async function freshProcess(
  exe: string,
  keys: TestKeys,
  dir: string,
  probe: Probe,
  warmUp: boolean,
): Promise<Sample> {
  const minted = await Promise.all(
    Array.from({ length: probe.later + 1 }, () => mintToken(keys.key, { expiresInSeconds: 120 })),
  );
  const flags = { "workspace-dir": join(dir, "ws"), "scratch-dir": dir, "log-level": "warn" };
  const t0 = performance.now();
  const korokd = await spawnKorokd(
    keys,
    { ...flags, "python-path": "/usr/bin/python3", "warm-up": String(warmUp) },
    { executable: exe },
  );
  try {
    await waitReady(korokd.url);
    const ready = performance.now() - t0;
    await Bun.sleep(IDLE_BEFORE_CLAIM_MS);
    const samples: number[] = [];
    for (const token of minted) {
      const start = performance.now();
      await probe.send(korokd.url, token);
      samples.push(performance.now() - start);
      await Bun.sleep(probe.gapMs);
    }
    return { first: samples[0] as number, later: median(samples.slice(1)), ready };
  } finally {
    await korokd.stop();
  }
}

export async function measureFirstRequests(
  exe: string,
  keys: TestKeys,
  dir: string,
): Promise<FirstRequestRow[]> {
  const rows: FirstRequestRow[] = [];
  for (const probe of PROBES) {
    const samples = { on: [] as Sample[], off: [] as Sample[] };
    for (let i = 0; i < PROCESSES_PER_CASE; i++) {
      for (const warmUp of i % 2 === 0 ? [true, false] : [false, true]) {
        samples[warmUp ? "on" : "off"].push(await freshProcess(exe, keys, dir, probe, warmUp));
      }
    }
    for (const warmUp of [true, false]) {
      const xs = samples[warmUp ? "on" : "off"];
      rows.push({
        probe: probe.name,
        warmUp,
        first: median(xs.map((s) => s.first)),
        later: median(xs.map((s) => s.later)),
        ready: median(xs.map((s) => s.ready)),
      });
    }
  }
  return rows;
}

/** The table, and the metrics as `[name, value, unit]`. */
export function reportFirstRequests(rows: readonly FirstRequestRow[]): [string, number, string][] {
  console.log(
    `\n| fresh korokd, ${PROCESSES_PER_CASE} processes per row | first p50 ms | later p50 ms | first/later | spawn→ready p50 ms |\n|---|---:|---:|---:|---:|`,
  );
  const metrics: [string, number, string][] = [];
  for (const r of rows) {
    const label = `${r.probe}, ${r.warmUp ? "warm-up before ready" : "no warm-up (baseline)"}`;
    console.log(
      `| ${label} | ${r.first.toFixed(3)} | ${r.later.toFixed(3)} | ${(r.first / r.later).toFixed(2)}x | ${r.ready.toFixed(1)} |`,
    );
    const key = `${r.probe.startsWith("one-shot") ? "first_run" : "first_auth_request"}_${r.warmUp ? "warmed" : "unwarmed"}`;
    metrics.push(
      [`${key}_p50`, r.first, "ms"],
      [`${key}_later_p50`, r.later, "ms"],
      [`${key}_first_vs_later`, r.first / r.later, "x"],
      [`${key}_spawn_to_ready_p50`, r.ready, "ms"],
    );
  }
  return metrics;
}
