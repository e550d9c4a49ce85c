/** The single entrypoint, run as a real process: flags, exit codes, health and a clean SIGTERM drain. */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";

const MAIN = join(import.meta.dir, "../../src/main.ts");

async function runMain(args: string[], env: Record<string, string> = {}) {
  const proc = Bun.spawn(["bun", MAIN, ...args], {
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ...env },
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { stdout, stderr, code };
}

describe("agentland entrypoint", () => {
  test("--help lists the modes and exits 0; --version prints the package version", async () => {
    const help = await runMain(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--mode=<gateway|agentcore|korokd>");
    const version = await runMain(["--version"]);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^agentland \d+\.\d+\.\d+\n$/);
  });

  test("a missing or unknown mode exits 2 naming the valid modes", async () => {
    for (const args of [[], ["--mode=nope"]]) {
      const r = await runMain(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("valid modes: gateway, agentcore, korokd");
    }
  });

  test("a bad setting exits 2 naming the field", async () => {
    const r = await runMain(["--mode=gateway", "--listen-port=65536"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--listen-port:");
  });

  for (const mode of ["gateway", "agentcore"] as const) {
    test(`${mode} serves /healthz on its address and exits 0 after a SIGTERM drain`, async () => {
      const proc = Bun.spawn(["bun", MAIN, `--mode=${mode}`, "--listen-host=127.0.0.1", "--listen-port=0"], {
        stdout: "pipe",
        stderr: "inherit",
      });
      const reader = proc.stdout.getReader();
      const first = new TextDecoder().decode((await reader.read()).value);
      const started = JSON.parse(first.split("\n")[0] as string) as { url: string };
      const health = await fetch(`${started.url}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: "ok", mode });
      proc.kill("SIGTERM");
      expect(await proc.exited).toBe(0);
      reader.releaseLock();
    });
  }
});
