import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderCrds } from "./crd/render-crds";
import { ALL_KINDS } from "./kinds";
import { findDrift, MANIFESTS_DIR } from "./write-crds";

const SCRIPT = join(import.meta.dir, "write-crds.ts");
const scratch = mkdtempSync(join(tmpdir(), "agentland-crds-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function run(...args: string[]) {
  const proc = Bun.spawnSync([process.execPath, SCRIPT, ...args], { stdout: "pipe", stderr: "pipe" });
  return { code: proc.exitCode, stdout: proc.stdout.toString(), stderr: proc.stderr.toString() };
}

describe("generated CRDs", () => {
  test("the committed manifests are exactly what src/api generates (run `bun src/api/write-crds.ts`)", () => {
    expect(findDrift(MANIFESTS_DIR, renderCrds(ALL_KINDS))).toEqual([]);
  });

  test("one file per kind, named so kubectl applies them before everything else", () => {
    const files = renderCrds(ALL_KINDS).map((f) => f.path);
    expect(files.length).toBe(6);
    const others = readdirSync(MANIFESTS_DIR).filter((f) => f.endsWith(".yaml") && !files.includes(f));
    for (const crd of files) for (const other of others) expect(crd < other).toBe(true);
  });

  test("the generated YAML is already in the repository's format (biome check covers manifests/)", async () => {
    const biome = join(import.meta.dir, "..", "..", "node_modules", ".bin", "biome");
    const format = async (path: string, content: string) => {
      const proc = Bun.spawn([biome, "format", `--stdin-file-path=manifests/${path}`], {
        stdin: new TextEncoder().encode(content),
        stdout: "pipe",
        stderr: "ignore",
      });
      const [formatted, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
      return [path, code, formatted];
    };
    const files = renderCrds(ALL_KINDS);
    const results = await Promise.all(files.map((f) => format(f.path, f.content)));
    expect(results).toEqual(files.map((f) => [f.path, 0, f.content]));
  }, 60_000);

  test("--check lists missing, differing and stale files and exits 1 without writing", () => {
    const dir = join(scratch, "drifted");
    mkdirSync(dir);
    expect(run(`--dir=${dir}`).code).toBe(0);
    const [first, second] = renderCrds(ALL_KINDS);
    writeFileSync(join(dir, first?.path as string), "# edited by hand\n");
    rmSync(join(dir, second?.path as string));
    writeFileSync(join(dir, "00-crd-removedkinds.yaml"), "x: 1\n");
    const before = readdirSync(dir).sort();
    const check = run("--check", `--dir=${dir}`);
    expect(check.code).toBe(1);
    expect(check.stderr).toContain(`${first?.path}: differs`);
    expect(check.stderr).toContain(`${second?.path}: missing`);
    expect(check.stderr).toContain("00-crd-removedkinds.yaml: stale");
    expect(readdirSync(dir).sort()).toEqual(before);
    expect(readFileSync(join(dir, first?.path as string), "utf8")).toBe("# edited by hand\n");
  });

  test("writing repairs every drift, after which --check passes", () => {
    const dir = join(scratch, "drifted");
    expect(run(`--dir=${dir}`).code).toBe(0);
    expect(run("--check", `--dir=${dir}`)).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(readdirSync(dir)).not.toContain("00-crd-removedkinds.yaml");
  });
});
