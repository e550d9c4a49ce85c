import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  isRunning,
  liveGroupMembers,
  removeTempDirs,
  startTestKorokd,
  type TestKorokd,
  waitUntil,
} from "../korokd-test-kit";

// Real processes on a shared machine: allow for load (bun test's default is 5 s).
setDefaultTimeout(30_000);

let korokd: TestKorokd;
beforeAll(async () => {
  korokd = await startTestKorokd({ "default-timeout": "20s" });
});
afterAll(async () => {
  await korokd.stop();
  removeTempDirs();
});

async function run(body: Record<string, unknown>) {
  const res = await korokd.call("/api/execute", body);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("one-shot execution", () => {
  test.each([
    ["python", "import sys\nprint(6 * 7)\nprint('oops', file=sys.stderr)"],
    ["javascript", "console.log(6 * 7); console.error('oops')"],
    ["typescript", "const n: number = 6 * 7; console.log(n); console.error('oops')"],
    ["bash", "echo $((6 * 7)); echo oops >&2"],
    ["sh", "echo 42; echo oops >&2"],
  ])("%s runs in a fresh interpreter and returns stdout, stderr and exit code", async (language, code) => {
    const { status, body } = await run({ language, code });
    expect(status).toBe(200);
    expect(body).toMatchObject({ exit_code: 0, stdout: "42\n", stderr: "oops\n", timed_out: false });
    expect(body["truncated"]).toEqual({ stdout: false, stderr: false });
    expect(typeof body["duration_ms"]).toBe("number");
  });

  test("no state leaks from one one-shot run into the next", async () => {
    await run({ language: "python", code: "import builtins; builtins.leak = 1" });
    const { body } = await run({
      language: "python",
      code: "import builtins; print(hasattr(builtins, 'leak'))",
    });
    expect(body["stdout"]).toBe("False\n");
  });

  test("a non-zero exit of user code is still a 200 carrying that exit code", async () => {
    const { status, body } = await run({ language: "python", code: "raise SystemExit(3)" });
    expect(status).toBe(200);
    expect(body["exit_code"]).toBe(3);
  });

  test("code larger than the 128 KiB argv limit runs (it never travels in argv)", async () => {
    const code = `x = "${"a".repeat(600 * 1024)}"\nprint(len(x))`;
    const { body } = await run({ language: "python", code });
    expect(body["stdout"]).toBe(`${600 * 1024}\n`);
    const sh = await run({ language: "bash", code: `# ${"b".repeat(300 * 1024)}\necho ok` });
    expect(sh.body["stdout"]).toBe("ok\n");
  });

  test("user code reading stdin sees end of file, not its own source", async () => {
    const { body } = await run({ language: "bash", code: "cat; echo after" });
    expect(body["stdout"]).toBe("after\n");
  });

  test("runs start in the workspace directory, which is writable", async () => {
    const { body } = await run({
      language: "python",
      code: "import os\nopen('f.txt','w').write('hi')\nprint(os.getcwd())",
    });
    expect(body["stdout"]).toBe(`${korokd.workspace}\n`);
    expect(readFileSync(join(korokd.workspace, "f.txt"), "utf8")).toBe("hi");
  });

  test("JavaScript runs as Bun itself without Bun's idle GC timer; other languages get neither variable", async () => {
    const js = await run({
      language: "javascript",
      code: "console.log(process.env.BUN_BE_BUN, process.env.BUN_GC_TIMER_DISABLE)",
    });
    expect(js.body).toMatchObject({ exit_code: 0, stdout: "1 1\n" });
    const sh = await run({ language: "sh", code: 'echo "[$BUN_BE_BUN$BUN_GC_TIMER_DISABLE]"' });
    expect(sh.body).toMatchObject({ exit_code: 0, stdout: "[]\n" });
  });

  test("the request's env reaches user code", async () => {
    const { body } = await run({ language: "sh", code: 'echo "$GREETING"', env: { GREETING: "hello" } });
    expect(body["stdout"]).toBe("hello\n");
  });
});

describe("request validation", () => {
  test("an unsupported language is a 400 naming the supported ones", async () => {
    const { status, body } = await run({ language: "cobol", code: "DISPLAY 'HI'" });
    expect(status).toBe(400);
    expect(body).toEqual({
      error: {
        code: "unsupported_language",
        message: expect.stringContaining("python, javascript, typescript, bash, sh"),
      },
    });
  });

  test("malformed JSON, missing fields and bad env names are 400 invalid_request", async () => {
    for (const body of [
      "{not json",
      { language: "python" },
      { language: "sh", code: "", env: { "A-B": "x" } },
    ]) {
      const res = await korokd.call("/api/execute", body);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("invalid_request");
    }
  });

  test("a timeout above the maximum is refused", async () => {
    const { status, body } = await run({ language: "sh", code: "true", timeout_ms: 24 * 3600 * 1000 });
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: { code: "invalid_request" } });
  });

  test("a 3 MiB body is refused with 413 body_too_large", async () => {
    const res = await korokd.call("/api/execute", { language: "python", code: "#".repeat(3 * 1024 * 1024) });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { code: "body_too_large" } });
  });

  test("an unknown route is a JSON 404", async () => {
    const res = await korokd.call("/api/nothing-here", {});
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: "not_found" } });
  });
});

describe("limits and hygiene", () => {
  test("a timeout kills the whole process group, backgrounded grandchildren included", async () => {
    const { body } = await run({
      language: "bash",
      code: "sleep 1000 &\necho $! $$\nsleep 1000",
      timeout_ms: 500,
    });
    expect(body["timed_out"]).toBe(true);
    const [grandchild, shell] = String(body["stdout"]).trim().split(" ").map(Number) as [number, number];
    expect(grandchild).toBeGreaterThan(0);
    expect(isRunning(grandchild)).toBe(false);
    expect(isRunning(shell)).toBe(false);
    expect(liveGroupMembers(shell)).toEqual([]);
  });

  test("background jobs left by a finished one-shot run are killed with it", async () => {
    const { body } = await run({ language: "sh", code: "sleep 1000 >/dev/null 2>&1 &\necho $!" });
    const pid = Number(String(body["stdout"]).trim());
    await waitUntil(() => !isRunning(pid), 2000, "the background job to be killed");
  });

  test("output beyond the cap is dropped and flagged, the run still completes", async () => {
    const { body } = await run({
      language: "python",
      code: "import sys\nsys.stdout.write('é' * 700000)\nsys.stderr.write('x' * 10)",
    });
    expect(body["exit_code"]).toBe(0);
    expect(body["truncated"]).toEqual({ stdout: true, stderr: false });
    const stdout = String(body["stdout"]);
    expect(Buffer.byteLength(stdout)).toBe(1024 * 1024);
    expect(stdout).not.toContain("\uFFFD");
  });

  test("beyond the concurrency limit korokd answers 429 with Retry-After", async () => {
    const slow = Array.from({ length: 4 }, () =>
      korokd.call("/api/execute", { language: "sh", code: "sleep 1.5; echo done" }),
    );
    await Bun.sleep(300);
    const extra = await korokd.call("/api/execute", { language: "sh", code: "echo hi" });
    expect(extra.status).toBe(429);
    expect(extra.headers.get("retry-after")).toBe("1");
    expect(await extra.json()).toMatchObject({ error: { code: "too_many_runs" } });
    const finished = await Promise.all(slow);
    expect(finished.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect((await run({ language: "sh", code: "echo again" })).body["stdout"]).toBe("again\n");
  });

  test("a client disconnect kills the run and its processes", async () => {
    const pidFile = join(korokd.workspace, "disconnect.pid");
    const abort = new AbortController();
    const pending = korokd
      .call(
        "/api/execute",
        { language: "bash", code: `sleep 1000 &\necho $$ $! > ${pidFile}\nwait` },
        { signal: abort.signal },
      )
      .catch((err: unknown) => err);
    await waitUntil(() => readPids(pidFile).length === 2, 5000, "the run to start");
    abort.abort();
    await pending;
    const [shell, sleeper] = readPids(pidFile) as [number, number];
    await waitUntil(() => !isRunning(shell) && !isRunning(sleeper), 3000, "the run's processes to die");
    expect(liveGroupMembers(shell)).toEqual([]);
  });
});

function readPids(file: string): number[] {
  try {
    return readFileSync(file, "utf8").trim().split(" ").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
