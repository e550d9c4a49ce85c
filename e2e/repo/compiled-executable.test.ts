/** `bun run build` produces one executable that runs from an empty directory with no network. */
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCommand } from "./run-command";

const ROOT = join(import.meta.dir, "../..");

test("the compiled executable runs standalone from an empty directory", async () => {
  const work = mkdtempSync(join(tmpdir(), "agentland-build-"));
  try {
    const exe = join(work, "agentland");
    const build = await runCommand(
      [
        "bun",
        "build",
        "--compile",
        "--minify",
        "--bytecode",
        "--splitting",
        "--format=esm",
        "src/main.ts",
        "--outfile",
        exe,
      ],
      { cwd: ROOT, timeoutMs: 180_000 },
    );
    expect(build.code).toBe(0);
    expect(statSync(exe).size).toBeGreaterThan(10_000_000);
    const empty = mkdtempSync(join(work, "empty-"));
    // No PATH, HOME or proxy settings: nothing outside the file itself is needed.
    const run = await runCommand([exe, "--version"], { cwd: empty, env: { PATH: "", HOME: empty } });
    expect(run.output.trim()).toMatch(/^agentland \d+\.\d+\.\d+$/);
    expect(run.code).toBe(0);
    const bad = await runCommand([exe, "--mode=nope"], { cwd: empty });
    expect(bad.code).toBe(2);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}, 240_000);
