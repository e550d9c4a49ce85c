import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { removeTempDirs, startTestKorokd } from "../korokd-test-kit";

// Real processes on a shared machine: allow for load (bun test's default is 5 s).
afterAll(removeTempDirs);
setDefaultTimeout(30_000);

describe("health", () => {
  test("ready when keys are loaded and every runtime is present; no token needed", async () => {
    const korokd = await startTestKorokd();
    try {
      const res = await fetch(`${korokd.url}/health`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        status: "ok",
        checks: {
          keys: true,
          workspace: true,
          python: true,
          bun: true,
          bash: true,
          sh: true,
          warmed_up: true,
        },
      });
    } finally {
      await korokd.stop();
    }
  });

  test("not ready while a language runtime is missing", async () => {
    const korokd = await startTestKorokd({ "python-path": "/nonexistent/python3" });
    try {
      const res = await fetch(`${korokd.url}/health`);
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ status: "not_ready", checks: { python: false, bash: true } });
    } finally {
      await korokd.stop();
    }
  });

  test("every /api route needs a token, even one that does not exist", async () => {
    const korokd = await startTestKorokd();
    try {
      const res = await fetch(`${korokd.url}/api/whatever`, { method: "POST" });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({
        error: { code: "token_missing", message: "an Authorization: Bearer token is required" },
      });
    } finally {
      await korokd.stop();
    }
  });
});
