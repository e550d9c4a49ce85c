import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { listProcesses } from "./exec/process-tree";
import {
  callKorokd,
  createTestKeys,
  isRunning,
  removeTempDirs,
  rssKiB,
  type SpawnedKorokd,
  spawnKorokd,
  type TestKeys,
  waitUntil,
} from "./korokd-test-kit";

// Real processes on a shared machine: allow for load (bun test's default is 5 s).
setDefaultTimeout(90_000);

/** Korokd as its own process, with a hostile-looking environment of its own. */
let keys: TestKeys;
let korokd: SpawnedKorokd;
const workspace = () => join(keys.dir, "ws");
const call = (body: unknown, init?: RequestInit) =>
  callKorokd(korokd.url, keys.key, "/api/execute", body, init).then(
    async (r) => (await r.json()) as Record<string, unknown>,
  );

beforeAll(async () => {
  keys = await createTestKeys();
  korokd = await spawnKorokd(
    keys,
    { "workspace-dir": workspace(), "log-level": "warn", "scratch-dir": keys.dir },
    {
      env: {
        KUBERNETES_SERVICE_HOST: "10.96.0.1",
        KUBERNETES_PORT: "tcp://10.96.0.1:443",
        AGENTLAND_TOKEN_ISSUER: "agentland-gateway",
        DATABASE_PASSWORD: "hunter2",
      },
    },
  );
});
afterAll(async () => {
  await korokd.stop();
  removeTempDirs();
});

describe("korokd as a process", () => {
  test("user code sees a scrubbed environment: no KUBERNETES_*, no korokd settings, no inherited secrets", async () => {
    const leaks = /KUBERNETES_|AGENTLAND_|POD_NAME|POD_NAMESPACE|DATABASE_PASSWORD|hunter2/;
    const runs = [
      { language: "python", code: "import os\nfor k, v in os.environ.items(): print(k + '=' + v)" },
      { language: "bash", code: "env" },
      {
        language: "javascript",
        code: "for (const [k, v] of Object.entries(process.env)) console.log(k + '=' + v)",
      },
      { language: "sh", code: "env", env: { MY_VAR: "mine" } },
    ];
    for (const run of runs) {
      const { stdout } = await call(run);
      expect(String(stdout)).toContain("PATH=");
      expect(String(stdout)).not.toMatch(leaks);
    }
    expect(String((await call(runs[3])).stdout)).toContain("MY_VAR=mine");
    const created = await callKorokd(korokd.url, keys.key, "/api/contexts", { language: "python" });
    const { id } = (await created.json()) as { id: string };
    const inContext = await call({
      language: "python",
      context_id: id,
      code: "import os\nprint(dict(os.environ))",
    });
    expect(String(inContext.stdout)).not.toMatch(leaks);
  });

  test("a 100 MiB output flood is truncated and korokd's memory stays bounded", async () => {
    await call({ language: "python", code: "print('warm-up')" });
    const before = rssKiB(korokd.pid);
    const flood = "import sys\nchunk = 'x' * 65536\nfor _ in range(1600): sys.stdout.write(chunk)";
    const result = await call({ language: "python", code: flood, timeout_ms: 60_000 });
    expect(result["exit_code"]).toBe(0);
    expect(result["truncated"]).toEqual({ stdout: true, stderr: false });
    expect(String(result["stdout"]).length).toBe(1024 * 1024);
    const peakGrowthMiB = (rssKiB(korokd.pid, "VmHWM") - before) / 1024;
    // 100 MiB went through korokd; holding it (or its JSON) would add ≥ 100 MiB. The cap is 1 MiB.
    expect(peakGrowthMiB).toBeLessThan(48);
  });

  test("SIGTERM drains: a running execution is killed in time, korokd exits 0 and leaves no scratch dir", async () => {
    const own = await createTestKeys();
    const ws = join(own.dir, "ws");
    const daemon = await spawnKorokd(own, {
      "workspace-dir": ws,
      "scratch-dir": own.dir,
      "drain-timeout": "3s",
      "log-level": "warn",
    });
    const pidFile = join(ws, "run.pid");
    const pending = callKorokd(daemon.url, own.key, "/api/execute", {
      language: "bash",
      code: `sleep 1000 &\necho $$ $! > ${pidFile}\nwait`,
    }).catch(() => undefined);
    await waitUntil(
      () => existsSync(pidFile) && readFileSync(pidFile, "utf8").includes(" "),
      5000,
      "run start",
    );
    const pids = readFileSync(pidFile, "utf8").trim().split(" ").map(Number);
    const started = performance.now();
    expect(await daemon.stop()).toBe(0);
    expect(performance.now() - started).toBeLessThan(4000);
    await pending;
    for (const pid of pids) expect(isRunning(pid)).toBe(false);
    expect(readdirSync(own.dir).filter((n) => n.startsWith("korokd-"))).toEqual([]);
  });

  test("without its pod identity korokd refuses to start, naming what is missing", async () => {
    const proc = Bun.spawn({
      cmd: [process.execPath, "src/main.ts", "--mode=korokd", "--listen-host=127.0.0.1"],
      cwd: join(import.meta.dir, "../.."),
      env: { PATH: "/usr/bin:/bin", AGENTLAND_JWKS_PATH: keys.jwksPath },
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(await proc.exited).toBe(1);
    expect(await new Response(proc.stderr).text()).toContain("POD_NAMESPACE and POD_NAME");
  });
});

describe("the compiled executable", () => {
  test("runs JavaScript and TypeScript as Bun itself (BUN_BE_BUN), one-shot and in contexts", async () => {
    const own = await createTestKeys();
    const exe = join(own.dir, "agentland");
    const build = Bun.spawn({
      cmd: [
        process.execPath,
        "build",
        "--compile",
        "--minify",
        "--bytecode",
        "--format=esm",
        "src/main.ts",
        "--outfile",
        exe,
      ],
      cwd: join(import.meta.dir, "../.."),
      stdout: "ignore",
      stderr: "inherit",
    });
    expect(await build.exited).toBe(0);
    const daemon = await spawnKorokd(
      own,
      { "workspace-dir": join(own.dir, "ws"), "scratch-dir": own.dir, "log-level": "warn" },
      { executable: exe },
    );
    const post = async (path: string, body: unknown) =>
      (await (await callKorokd(daemon.url, own.key, path, body)).json()) as Record<string, unknown>;
    try {
      const ts = await post("/api/execute", {
        language: "typescript",
        code: "const n: number = 2; console.log(n * 21, typeof Bun)",
      });
      expect(ts).toMatchObject({ exit_code: 0, stdout: "42 object\n" });
      const js = await post("/api/execute", {
        language: "javascript",
        code: "console.log(process.execPath)",
        env: { X: "1" },
      });
      expect(js).toMatchObject({ exit_code: 0, stdout: `${exe}\n` });
      const { id } = (await post("/api/contexts", { language: "typescript" })) as { id: string };
      await post("/api/execute", { language: "typescript", context_id: id, code: "let total: number = 40;" });
      const again = await post("/api/execute", {
        language: "typescript",
        context_id: id,
        code: "console.log(total + 2)",
      });
      expect(again).toMatchObject({ exit_code: 0, stdout: "42\n" });
    } finally {
      await daemon.stop();
    }
  });
});

describe("orphans of killed runs", () => {
  test("as PID 1 of its own pid namespace korokd reaps the orphans of killed runs: no zombie is left", async () => {
    const own = await createTestKeys();
    const daemon = await spawnKorokd(
      own,
      { "workspace-dir": join(own.dir, "ws"), "scratch-dir": own.dir, "log-level": "warn" },
      { wrapper: ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child"] },
    );
    try {
      const korokdPid = daemon.pid;
      expect(readFileSync(`/proc/${korokdPid}/status`, "utf8")).toMatch(/^NSpid:\s+\d+\s+1$/m);
      const code = "for i in 1 2 3; do (sleep 1000 &); done\nsleep 1000";
      const result = await callKorokd(daemon.url, own.key, "/api/execute", {
        language: "bash",
        code,
        timeout_ms: 300,
      });
      expect(await result.json()).toMatchObject({ timed_out: true });
      const zombies = () => listProcesses().filter((p) => p.ppid === korokdPid && p.state === "Z");
      const orphans = () =>
        listProcesses().filter((p) => p.ppid === korokdPid && p.state !== "Z" && isSleep(p.pid));
      await waitUntil(
        () => zombies().length === 0 && orphans().length === 0,
        3000,
        "orphans to be killed and reaped",
      );
    } finally {
      await daemon.stop();
    }
  });
});

function isSleep(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "sleep";
  } catch {
    return false;
  }
}
