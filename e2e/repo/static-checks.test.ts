/** The code base type-checks under the strict settings and passes the linter/formatter. */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { runCommand } from "./run-command";

const ROOT = join(import.meta.dir, "../..");

test("the whole code base type-checks with the strict compiler settings", async () => {
  const r = await runCommand(["tsc", "--noEmit", "-p", "."], { cwd: ROOT, timeoutMs: 300_000 });
  expect(r.output).toBe("");
  expect(r.code).toBe(0);
}, 300_000);

test("biome reports no lint or formatting problems (generated code excluded)", async () => {
  const r = await runCommand(["biome", "check", "--reporter=summary", "."], { cwd: ROOT });
  if (r.code !== 0) console.error(r.output);
  expect(r.code).toBe(0);
});
