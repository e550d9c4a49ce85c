/** The single entrypoint, run as a real process: flags, exit codes, health and a clean SIGTERM drain. */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { freePort } from "../cluster/processes";
import { testCluster } from "../harness/test-cluster";

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

  test("agentcore serves /healthz on its HTTP port and exits 0 after a SIGTERM drain", async () => {
    const cluster = testCluster();
    const httpPort = await freePort();
    const proc = Bun.spawn(
      [
        "bun",
        MAIN,
        "--mode=agentcore",
        "--listen-host=127.0.0.1",
        "--listen-port=0",
        `--http-port=${httpPort}`,
        `--kubeconfig=${cluster.kubeconfig}`,
        "--allowed-namespaces=default",
        "--leader-election-namespace=default",
        `--leader-election-lease=entrypoint-${process.pid}`,
      ],
      { stdout: "pipe", stderr: "inherit" },
    );
    const health = await eventually(async () => {
      const res = await fetch(`http://127.0.0.1:${httpPort}/healthz`).catch(() => undefined);
      return res?.status === 200 ? res : undefined;
    });
    expect(await health.text()).toBe("ok");
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
  });
});

async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await probe();
    if (v !== undefined) return v;
    await Bun.sleep(100);
  }
  throw new Error("timed out");
}
