import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { listProcesses } from "./exec/process-tree";
import { isRunning, removeTempDirs, startTestKorokd, tempDir } from "./korokd-test-kit";

// Real processes on a shared machine: allow for load (bun test's default is 5 s).
afterAll(removeTempDirs);
setDefaultTimeout(30_000);

/** Korokd's own interpreter children (its pre-started ones, as nothing else runs). */
const children = () => listProcesses().filter((p) => p.ppid === process.pid && p.state !== "Z");

describe("warm-up before ready", () => {
  test("every path runs once and leaves no context, no file and no used interpreter behind", async () => {
    const scratch = tempDir("korokd-scratch-");
    const before = new Set(children().map((p) => p.pid));
    const korokd = await startTestKorokd({ "scratch-dir": scratch });
    try {
      expect(await korokd.running.warmedUp).toBe(true);
      const health = await fetch(`${korokd.url}/health`);
      expect(health.status).toBe(200);
      expect(((await health.json()) as { checks: object }).checks).toMatchObject({ warmed_up: true });

      expect(await (await korokd.call("/api/contexts")).json()).toEqual({ contexts: [] });
      expect(readdirSync(korokd.workspace)).toEqual([]);
      const [own] = readdirSync(scratch);
      expect(readdirSync(join(scratch, own as string))).toEqual([]);
      // One waiting interpreter per runtime (python, bun, bash, sh): the two the warm-up used were replaced.
      await Bun.sleep(100);
      const waiting = children().filter((p) => !before.has(p.pid));
      expect(waiting).toHaveLength(4);
      for (const p of waiting) expect(isRunning(p.pid)).toBe(true);

      const result = await (
        await korokd.call("/api/execute", { language: "python", code: "print(1+1)" })
      ).json();
      expect(result).toMatchObject({ exit_code: 0, stdout: "2\n" });
    } finally {
      await korokd.stop();
    }
  });

  test("with the warm-up off, korokd is ready at once and serves the same", async () => {
    const korokd = await startTestKorokd({ "warm-up": "false" });
    try {
      expect(await korokd.running.warmedUp).toBe(true);
      const result = await (await korokd.call("/api/execute", { language: "bash", code: "echo hi" })).json();
      expect(result).toMatchObject({ exit_code: 0, stdout: "hi\n" });
    } finally {
      await korokd.stop();
    }
  });

  test("a korokd without python warms what it has and reports the missing runtime, not a failed warm-up", async () => {
    const korokd = await startTestKorokd({ "python-path": "/nonexistent/python3" });
    try {
      expect(await korokd.running.warmedUp).toBe(true);
      const health = await fetch(`${korokd.url}/health`);
      expect(health.status).toBe(503);
      expect(await health.json()).toMatchObject({ checks: { python: false, warmed_up: true } });
    } finally {
      await korokd.stop();
    }
  });
});
