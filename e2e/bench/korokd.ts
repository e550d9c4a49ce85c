/**
 * `bun run bench korokd`: korokd against its baselines, side by side in one run, on the compiled
 * executable that ships (built here into a temp dir):
 *   - in-context `print(1+1)` over HTTP + JWT vs. a raw write/read to a warm python3 over a pipe;
 *   - one-shot python through korokd: forked from its python zygote, a pre-started interpreter
 *     (--fork-server=false), cold with a request env, vs. spawning `python3 -c` directly — latency and
 *     CPU per run (see korokd-one-shot.ts);
 *   - idle RSS of the compiled executable, as built by the project and with --splitting;
 *   - idle CPU of a korokd at rest (a warm pool's pod) as the image runs it vs. with Bun's defaults
 *     (see korokd-idle.ts);
 *   - the first request on a freshly started korokd vs. that process's later ones, with and without the
 *     warm-up korokd does before reporting ready (see korokd-first-request.ts).
 * Tokens are minted before each timed loop, so the numbers show korokd's cost (verification included),
 * not the client's signing. Bounded: a few thousand requests, well under a minute.
 */
import { loadavg } from "node:os";
import { join } from "node:path";
import {
  createTestKeys,
  mintToken,
  removeTempDirs,
  rssKiB,
  type SigningKey,
  spawnKorokd,
  type TestKeys,
  tempDir,
} from "../../src/korokd/korokd-test-kit";
import { measureFirstRequests, reportFirstRequests } from "./korokd-first-request";
import { type IdleRow, measureIdle } from "./korokd-idle";
import { childrenRssKiB, measureOneShot, type OneShotRow, PYTHON } from "./korokd-one-shot";

const CONTEXT_RUNS = 1000;
const CONTEXT_WARMUP = 300;
interface Row {
  readonly name: string;
  readonly p50: number;
  readonly p99: number;
}

interface Subject {
  readonly name: string;
  /** One measured operation; `i` is the iteration. */
  readonly once: (i: number) => Promise<void>;
}

const metrics: { metric: string; value: number; unit: string }[] = [];
const metric = (name: string, value: number, unit: string) => metrics.push({ metric: name, value, unit });

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/**
 * Runs the subjects in turn, rotating which goes first, so that a shared machine's changing load hits
 * subject and baseline alike and their ratio stays meaningful. Warm-up iterations are not recorded.
 */
async function interleave(subjects: readonly Subject[], runs: number, warmup: number, gapMs: number) {
  const samples = subjects.map(() => [] as number[]);
  for (let i = 0; i < warmup + runs; i++) {
    for (let k = 0; k < subjects.length; k++) {
      const index = (i + k) % subjects.length;
      const t0 = performance.now();
      await (subjects[index] as Subject).once(i);
      if (i >= warmup) (samples[index] as number[]).push(performance.now() - t0);
      if (gapMs > 0) await Bun.sleep(gapMs);
    }
  }
  return subjects.map((subject, index): Row => {
    const sorted = (samples[index] as number[]).sort((a, b) => a - b);
    return { name: subject.name, p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
  });
}

/** The executable as the project builds it; `splitting` puts each mode in a chunk loaded on demand. */
async function buildExecutable(dir: string, splitting: boolean): Promise<string> {
  const out = join(dir, splitting ? "agentland-split" : "agentland");
  const flags = [
    "--compile",
    "--minify",
    "--bytecode",
    "--format=esm",
    ...(splitting ? ["--splitting"] : []),
  ];
  const build = Bun.spawn({
    cmd: [process.execPath, "build", ...flags, "src/main.ts", "--outfile", out],
    cwd: join(import.meta.dir, "../.."),
    stdout: "ignore",
    stderr: "inherit",
  });
  if ((await build.exited) !== 0) throw new Error("bun build --compile failed");
  return out;
}

/** RSS of an idle korokd (no interpreters pre-started, so only korokd itself is counted). */
async function idleRssKiB(exe: string, keys: TestKeys, dir: string): Promise<number> {
  const korokd = await spawnKorokd(
    keys,
    { "workspace-dir": join(dir, "ws"), "scratch-dir": dir, "log-level": "warn", prewarm: "false" },
    { executable: exe },
  );
  try {
    await Bun.sleep(1500);
    return rssKiB(korokd.pid);
  } finally {
    await korokd.stop();
  }
}

async function tokens(key: SigningKey, n: number): Promise<string[]> {
  return await Promise.all(Array.from({ length: n }, () => mintToken(key, { expiresInSeconds: 240 })));
}

function execute(url: string, token: string, body: unknown): Promise<Record<string, unknown>> {
  return fetch(`${url}/api/execute`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  }).then((r) => r.json() as Promise<Record<string, unknown>>);
}

/** The floor: a warm python3 that execs each line it reads and answers on the same pipes. */
function rawPipe(): Subject & { stop(): void } {
  const loop = "import sys\nfor line in sys.stdin:\n    exec(line)\n    sys.stdout.flush()";
  const proc = Bun.spawn({
    cmd: [PYTHON, "-u", "-c", loop],
    stdin: "pipe",
    stdout: "pipe",
    stderr: "inherit",
  });
  const reader = proc.stdout.getReader();
  const decoder = new TextDecoder();
  return {
    name: "raw pipe to warm python3",
    async once() {
      proc.stdin.write("print(1+1)\n");
      await proc.stdin.flush();
      let got = "";
      while (!got.endsWith("\n")) got += decoder.decode((await reader.read()).value);
      if (got !== "2\n") throw new Error(`raw pipe answered ${JSON.stringify(got)}`);
    },
    stop: () => proc.kill(),
  };
}

async function inContext(url: string, key: SigningKey, language: string, code: string): Promise<Subject> {
  const create = await fetch(`${url}/api/contexts`, {
    method: "POST",
    headers: { authorization: `Bearer ${await mintToken(key)}`, "content-type": "application/json" },
    body: JSON.stringify({ language }),
  });
  const { id } = (await create.json()) as { id: string };
  const minted = await tokens(key, CONTEXT_RUNS + CONTEXT_WARMUP);
  return {
    name: `korokd context ${language} ${code}`,
    async once(i) {
      const result = await execute(url, minted[i] as string, { language, code, context_id: id });
      if (result["stdout"] !== "2\n") throw new Error(`context answered ${JSON.stringify(result)}`);
    },
  };
}

function printOneShot(rows: readonly OneShotRow[]) {
  console.log("\n| one-shot print(1+1) | p50 ms | p99 ms | CPU ms per run |\n|---|---:|---:|---:|");
  for (const r of rows) {
    console.log(`| ${r.name} | ${r.p50.toFixed(3)} | ${r.p99.toFixed(3)} | ${r.cpuMs.toFixed(2)} |`);
  }
}

function printIdle(rows: readonly IdleRow[]) {
  console.log(
    "\n| at rest (pool pod waiting) | CPU ms/s, korokd and children | of it korokd | korokd wake-ups/s | PSS MiB |\n|---|---:|---:|---:|---:|",
  );
  for (const r of rows) {
    console.log(
      `| ${r.name} | ${r.cpuMsPerS.toFixed(2)} | ${r.korokdMsPerS.toFixed(2)} | ${r.wakeupsPerS.toFixed(1)} | ${r.pssMiB.toFixed(1)} |`,
    );
  }
}

function printTable(rows: readonly Row[]) {
  console.log("\n| measurement | p50 ms | p99 ms |\n|---|---:|---:|");
  for (const r of rows) console.log(`| ${r.name} | ${r.p50.toFixed(3)} | ${r.p99.toFixed(3)} |`);
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

async function main() {
  console.log(`load average at start: ${load()}`);
  const dir = tempDir("korokd-bench-");
  try {
    const exe = await buildExecutable(dir, false);
    const split = await buildExecutable(dir, true);
    const keys = await createTestKeys();
    const idleKiB = await idleRssKiB(exe, keys, dir);
    const idleSplitKiB = await idleRssKiB(split, keys, dir);
    const idle = await measureIdle(exe, keys, dir);
    const korokd = await spawnKorokd(
      keys,
      { "workspace-dir": join(dir, "ws"), "scratch-dir": dir, "log-level": "warn", "python-path": PYTHON },
      { executable: exe },
    );
    try {
      await Bun.sleep(1500);
      const warmKiB = childrenRssKiB(korokd.pid);

      const pipe = rawPipe();
      const contexts = [
        pipe,
        await inContext(korokd.url, keys.key, "python", "print(1+1)"),
        await inContext(korokd.url, keys.key, "javascript", "console.log(1+1)"),
      ];
      const [raw, py, js] = (await interleave(contexts, CONTEXT_RUNS, CONTEXT_WARMUP, 0)) as [Row, Row, Row];
      pipe.stop();
      const shots = await measureOneShot(exe, keys, dir);
      const { forked, prestarted: warm, cold, spawned } = shots;

      printTable([raw, py, js]);
      printOneShot([forked, warm, cold, spawned]);
      console.log(
        `\ncontext python vs raw pipe: ${(py.p50 / raw.p50).toFixed(2)}x at p50 (+${(py.p50 - raw.p50).toFixed(3)} ms)`,
      );
      console.log(
        `one-shot forked vs pre-started: ${(forked.p50 / warm.p50).toFixed(2)}x latency at p50, ` +
          `${(forked.cpuMs / warm.cpuMs).toFixed(2)}x CPU per run; pre-started vs spawn python3 -c: ` +
          `${(warm.p50 / spawned.p50).toFixed(2)}x at p50`,
      );
      const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;
      console.log(
        `idle RSS of the compiled executable: ${mib(idleKiB)}; built with --splitting: ${mib(idleSplitKiB)}`,
      );
      console.log(
        `pre-started interpreters (python zygote, bun, bash, sh) take ${mib(warmKiB)} in their own processes; ` +
          `idle children with the fork server ${mib(shots.idleChildrenKiB.forkServer)}, ` +
          `with four pre-started interpreters ${mib(shots.idleChildrenKiB.prestarted)}`,
      );

      printIdle(idle);
      const [asImage, bunDefaults] = idle as [IdleRow, IdleRow];
      for (const [variant, r] of [
        ["image_env", asImage],
        ["bun_defaults", bunDefaults],
      ] as const) {
        metric(`idle_cpu_${variant}`, r.cpuMsPerS, "ms/s");
        metric(`idle_wakeups_${variant}`, r.wakeupsPerS, "1/s");
        metric(`idle_pss_${variant}`, r.pssMiB, "MiB");
      }
      metric("idle_cpu_image_env_vs_bun_defaults_ratio", asImage.cpuMsPerS / bunDefaults.cpuMsPerS, "x");

      for (const [name, value, unit] of reportFirstRequests(await measureFirstRequests(exe, keys, dir))) {
        metric(name, value, unit);
      }

      metric("context_python_rtt_p50", py.p50, "ms");
      metric("context_python_rtt_p99", py.p99, "ms");
      metric("raw_pipe_python_rtt_p50", raw.p50, "ms");
      metric("raw_pipe_python_rtt_p99", raw.p99, "ms");
      metric("context_vs_raw_pipe_p50_ratio", py.p50 / raw.p50, "x");
      metric("context_javascript_rtt_p50", js.p50, "ms");
      metric("one_shot_python_fork_p50", forked.p50, "ms");
      metric("one_shot_python_fork_p99", forked.p99, "ms");
      metric("one_shot_python_fork_cpu_per_run", forked.cpuMs, "ms");
      metric("one_shot_python_prestarted_cpu_per_run", warm.cpuMs, "ms");
      metric("one_shot_python_cold_cpu_per_run", cold.cpuMs, "ms");
      metric("spawn_python3_c_cpu_per_run", spawned.cpuMs, "ms");
      metric("one_shot_fork_vs_prestarted_p50_ratio", forked.p50 / warm.p50, "x");
      metric("one_shot_fork_vs_prestarted_cpu_ratio", forked.cpuMs / warm.cpuMs, "x");
      metric("idle_children_rss_fork_server", shots.idleChildrenKiB.forkServer / 1024, "MiB");
      metric("idle_children_rss_prestarted", shots.idleChildrenKiB.prestarted / 1024, "MiB");
      metric("one_shot_python_prestarted_p50", warm.p50, "ms");
      metric("one_shot_python_prestarted_p99", warm.p99, "ms");
      metric("one_shot_python_cold_p50", cold.p50, "ms");
      metric("spawn_python3_c_p50", spawned.p50, "ms");
      metric("spawn_python3_c_p99", spawned.p99, "ms");
      metric("one_shot_vs_spawn_p50_ratio", warm.p50 / spawned.p50, "x");
      metric("idle_rss_compiled", idleKiB / 1024, "MiB");
      metric("idle_rss_compiled_splitting", idleSplitKiB / 1024, "MiB");
      metric("warm_interpreters_rss", warmKiB / 1024, "MiB");
    } finally {
      await korokd.stop();
    }
  } finally {
    removeTempDirs();
  }
  console.log(`load average at end: ${load()}`);
  for (const m of metrics) console.log(JSON.stringify({ bench: "korokd", ...m }));
}

await main();
