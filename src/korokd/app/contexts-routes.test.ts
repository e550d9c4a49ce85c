import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { isRunning, removeTempDirs, startTestKorokd, type TestKorokd, waitUntil } from "../korokd-test-kit";

// Real processes on a shared machine: allow for load (bun test's default is 5 s).
setDefaultTimeout(30_000);

let korokd: TestKorokd;
beforeAll(async () => {
  korokd = await startTestKorokd({ "max-contexts": "3" });
});
afterAll(async () => {
  await korokd.stop();
  removeTempDirs();
});

async function json(res: Response | Promise<Response>) {
  const r = await res;
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

async function createContext(language: string): Promise<string> {
  const { status, body } = await json(korokd.call("/api/contexts", { language }));
  expect(status).toBe(201);
  return body["id"] as string;
}

const exec = (id: string, language: string, code: string, extra: Record<string, unknown> = {}) =>
  json(korokd.call("/api/execute", { language, code, context_id: id, ...extra }));

const remove = (id: string) => korokd.call(`/api/contexts/${id}`, undefined, { method: "DELETE" });

describe("stateful contexts", () => {
  test("a Python context keeps variables, imports and functions across three calls", async () => {
    const id = await createContext("python");
    expect((await exec(id, "python", "import math\nbase = 40")).body["exit_code"]).toBe(0);
    expect((await exec(id, "python", "def add(n):\n    return base + n")).body["exit_code"]).toBe(0);
    const third = await exec(id, "python", "print(add(2), math.floor(2.5))");
    expect(third.body).toMatchObject({ exit_code: 0, stdout: "42 2\n", stderr: "" });
    await remove(id);
  });

  test("a JavaScript context runs without Bun's idle GC timer, like a one-shot run", async () => {
    const id = await createContext("javascript");
    try {
      const env = await exec(id, "javascript", "console.log(process.env.BUN_GC_TIMER_DISABLE)");
      expect(env.body).toMatchObject({ exit_code: 0, stdout: "1\n" });
    } finally {
      await remove(id);
    }
  });

  test.each([
    [
      "typescript",
      "import { join } from 'node:path';\nconst base: number = 40;",
      "function add(n: number) { return base + n }",
    ],
    [
      "javascript",
      "const { join } = await import('node:path');\nlet base = 40;",
      "function add(n) { return base + n }",
    ],
  ])(
    "a %s context keeps declarations, imports and functions across three calls",
    async (language, first, second) => {
      const id = await createContext(language);
      expect((await exec(id, language, first)).body).toMatchObject({ exit_code: 0, stderr: "" });
      expect((await exec(id, language, second)).body).toMatchObject({ exit_code: 0, stderr: "" });
      const third = await exec(id, language, "console.log(add(2), join('a', 'b'))");
      expect(third.body).toMatchObject({ exit_code: 0, stdout: "42 a/b\n" });
      await remove(id);
    },
  );

  test("an error in one call is reported and the context keeps its state", async () => {
    const id = await createContext("python");
    await exec(id, "python", "kept = 'yes'");
    const failed = await exec(id, "python", "1 / 0");
    expect(failed.body["exit_code"]).toBe(1);
    expect(String(failed.body["stderr"])).toContain("ZeroDivisionError");
    expect(String(failed.body["stderr"])).not.toContain("<korokd>");
    expect((await exec(id, "python", "print(kept)")).body["stdout"]).toBe("yes\n");
    await remove(id);
  });

  test("interrupt stops a running loop and the context survives with its state", async () => {
    const id = await createContext("python");
    await exec(id, "python", "counter = 0");
    const loop = exec(id, "python", "import time\nwhile True:\n    counter += 1\n    time.sleep(0.001)");
    await Bun.sleep(300);
    const interrupted = await json(korokd.call(`/api/contexts/${id}/interrupt`, {}));
    expect(interrupted.body).toEqual({ id, interrupted: true, restarted: false });
    const result = (await loop).body;
    expect(result["exit_code"]).toBe(130);
    expect(String(result["stderr"])).toContain("KeyboardInterrupt");
    const after = await exec(id, "python", "print(counter > 0)");
    expect(after.body).toMatchObject({ exit_code: 0, stdout: "True\n" });
    await remove(id);
  });

  test("a timeout interrupts the execution and leaves the context usable", async () => {
    const id = await createContext("python");
    await exec(id, "python", "x = 1");
    const timed = await exec(id, "python", "while True: pass", { timeout_ms: 300 });
    expect(timed.body).toMatchObject({ timed_out: true, exit_code: 130 });
    expect((await exec(id, "python", "print(x)")).body["stdout"]).toBe("1\n");
    await remove(id);
  });

  test("a busy JavaScript loop cannot be interrupted, so the interpreter is replaced and the id lives on", async () => {
    const id = await createContext("javascript");
    const loop = exec(id, "javascript", "globalThis.pidBefore = process.pid; while (true) {}");
    await Bun.sleep(200);
    const interrupted = await json(korokd.call(`/api/contexts/${id}/interrupt`, {}));
    expect(interrupted.body).toEqual({ id, interrupted: true, restarted: true });
    await loop;
    const after = await exec(id, "javascript", "console.log(typeof pidBefore)");
    expect(after.body).toMatchObject({ exit_code: 0, stdout: "undefined\n" });
    await remove(id);
  });

  test("interrupting an awaiting JavaScript cell keeps the context and its state", async () => {
    const id = await createContext("typescript");
    await exec(id, "typescript", "const kept: string = 'still here';");
    const waiting = exec(id, "typescript", "await new Promise((r) => setTimeout(r, 60_000));");
    await Bun.sleep(200);
    const interrupted = await json(korokd.call(`/api/contexts/${id}/interrupt`, {}));
    expect(interrupted.body).toEqual({ id, interrupted: true, restarted: false });
    expect((await waiting).body["exit_code"]).toBe(130);
    expect((await exec(id, "typescript", "console.log(kept)")).body["stdout"]).toBe("still here\n");
    await remove(id);
  });

  test("a client disconnect interrupts the context's execution; the context stays usable", async () => {
    const id = await createContext("python");
    await exec(id, "python", "kept = 5");
    const abort = new AbortController();
    const pending = korokd
      .call(
        "/api/execute",
        { language: "python", context_id: id, code: "import time\ntime.sleep(1000)" },
        { signal: abort.signal },
      )
      .catch(() => undefined);
    await Bun.sleep(200);
    abort.abort();
    await pending;
    const deadline = performance.now() + 3000;
    let after = await exec(id, "python", "print(kept)");
    while (after.status === 409 && performance.now() < deadline) {
      await Bun.sleep(50);
      after = await exec(id, "python", "print(kept)");
    }
    expect(after.body).toMatchObject({ exit_code: 0, stdout: "5\n" });
    await remove(id);
  });

  test("restart clears all state but keeps the id", async () => {
    const id = await createContext("python");
    await exec(id, "python", "secret = 42");
    const restarted = await json(korokd.call(`/api/contexts/${id}/restart`, {}));
    expect(restarted.body).toEqual({ id, restarted: true });
    const after = await exec(id, "python", "print(secret)");
    expect(after.body["exit_code"]).toBe(1);
    expect(String(after.body["stderr"])).toContain("NameError");
    await remove(id);
  });

  test("an interpreter that exits by itself is replaced; the context stays usable", async () => {
    const id = await createContext("python");
    const died = await exec(id, "python", "import os\nos._exit(7)");
    expect(died.body["exit_code"]).toBe(7);
    expect((await exec(id, "python", "print('back')")).body["stdout"]).toBe("back\n");
    await remove(id);
  });

  test("delete kills the interpreter; the id is gone afterwards", async () => {
    const id = await createContext("python");
    const pid = Number((await exec(id, "python", "import os\nprint(os.getpid())")).body["stdout"]);
    expect((await remove(id)).status).toBe(204);
    await waitUntil(() => !isRunning(pid), 3000, "the context interpreter to exit");
    const gone = await exec(id, "python", "print(1)");
    expect(gone.status).toBe(404);
    expect(gone.body).toMatchObject({ error: { code: "context_not_found" } });
  });

  test("list shows the contexts; a second execution while one runs is 409 context_busy", async () => {
    const id = await createContext("python");
    const listed = await json(korokd.call("/api/contexts"));
    expect(listed.body["contexts"]).toContainEqual(
      expect.objectContaining({ id, language: "python", busy: false }),
    );
    const slow = exec(id, "python", "import time\ntime.sleep(0.5)");
    await Bun.sleep(100);
    const busy = await exec(id, "python", "print(1)");
    expect(busy.status).toBe(409);
    expect(busy.body).toMatchObject({ error: { code: "context_busy" } });
    await slow;
    await remove(id);
  });

  test("contexts check language and are limited in number", async () => {
    const unsupported = await json(korokd.call("/api/contexts", { language: "bash" }));
    expect(unsupported.status).toBe(400);
    expect(unsupported.body).toMatchObject({ error: { code: "unsupported_language" } });
    const ids = [await createContext("python"), await createContext("python"), await createContext("python")];
    const fourth = await json(korokd.call("/api/contexts", { language: "python" }));
    expect(fourth.status).toBe(429);
    expect(fourth.body).toMatchObject({ error: { code: "too_many_contexts" } });
    const mismatch = await exec(ids[0] as string, "javascript", "1");
    expect(mismatch.status).toBe(400);
    expect(mismatch.body).toMatchObject({ error: { code: "context_language_mismatch" } });
    for (const id of ids) await remove(id);
  });
});
