/** Generated code and manifests are exactly what `bun run gen` produces from their sources. */
import { expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { runCommand } from "./run-command";

const ROOT = join(import.meta.dir, "../..");

function filesUnder(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p, "utf8"));
    }
  };
  walk(dir);
  return out;
}

test("regenerating src/gen from proto/ changes nothing", async () => {
  const out = mkdtempSync(join(tmpdir(), "agentland-gen-"));
  try {
    const r = await runCommand(["buf", "generate", "-o", out], { cwd: ROOT });
    expect(r.output).toBe("");
    const fresh = filesUnder(join(out, "src/gen"));
    const committed = filesUnder(join(ROOT, "src/gen"));
    expect([...committed.keys()].sort()).toEqual([...fresh.keys()].sort());
    for (const [file, text] of fresh) expect({ file, text: committed.get(file) }).toEqual({ file, text });
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test("the AgentCore protobuf definitions pass buf lint", async () => {
  const r = await runCommand(["buf", "lint", "proto"], { cwd: ROOT });
  expect(r.output).toBe("");
  expect(r.code).toBe(0);
});
