/** `bun run build` produces one executable that runs from an empty directory with no network. */
import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { COMPILE_ENTRYPOINTS, compileCommand } from "../images/compile-command";
import { KOROKD_IMAGE_ENV } from "../images/korokd-env";
import { runCommand } from "./run-command";

const ROOT = join(import.meta.dir, "../..");

test("the compiled executable runs standalone from an empty directory", async () => {
  const work = mkdtempSync(join(tmpdir(), "agentland-build-"));
  try {
    const exe = join(work, "agentland");
    const build = await runCommand(compileCommand("bun", exe), { cwd: ROOT, timeoutMs: 180_000 });
    expect(build.code).toBe(0);
    expect(statSync(exe).size).toBeGreaterThan(10_000_000);
    // The gateway's token-minting worker is loaded by path at run time: it must be embedded, or a compiled
    // gateway silently signs every token on its request loop.
    expect(readFileSync(exe).includes("/$bunfs/root/gateway/tokens/mint-worker.js")).toBe(true);
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

test("package.json and both Dockerfiles compile the same entry points as the image builder", () => {
  const sources = [
    JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).scripts.build as string,
    readFileSync(join(ROOT, "manifests/images/control-plane.Dockerfile"), "utf8"),
    readFileSync(join(ROOT, "manifests/images/code-interpreter.Dockerfile"), "utf8"),
  ];
  for (const text of sources) {
    const command = text.replace(/\\\n\s*/g, "");
    expect(command).toContain(`--splitting ${COMPILE_ENTRYPOINTS.join(" ")} --outfile`);
  }
});

test("the code-interpreter Dockerfile sets the environment the image builder gives korokd", () => {
  const dockerfile = readFileSync(join(ROOT, "manifests/images/code-interpreter.Dockerfile"), "utf8");
  const env = Object.fromEntries(
    [...dockerfile.matchAll(/^ENV ([A-Z_]+)=(\S+)$/gm)].map((m) => [m[1] as string, m[2] as string]),
  );
  expect(env).toEqual({ ...KOROKD_IMAGE_ENV });
});
