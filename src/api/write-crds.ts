/**
 * `bun src/api/write-crds.ts` writes the CRD manifests generated from `src/api` into `manifests/`.
 * `bun src/api/write-crds.ts --check` writes nothing; it lists files that differ (or are stale) and exits 1.
 * `--dir=PATH` works on another directory instead of `manifests/` (for tests).
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CRD_FILE_PREFIX, type GeneratedFile, renderCrds } from "./crd/render-crds";
import { ALL_KINDS } from "./kinds";

export const MANIFESTS_DIR = join(import.meta.dir, "..", "..", "manifests");

export interface Drift {
  readonly path: string;
  readonly problem: "missing" | "differs" | "stale";
}

/** Compares the generated files with `dir`; stale means a generated-looking file no kind produces. */
export function findDrift(dir: string, files: readonly GeneratedFile[]): Drift[] {
  const drift: Drift[] = [];
  for (const file of files) {
    let current: string | undefined;
    try {
      current = readFileSync(join(dir, file.path), "utf8");
    } catch {
      current = undefined;
    }
    if (current !== file.content)
      drift.push({ path: file.path, problem: current === undefined ? "missing" : "differs" });
  }
  const expected = new Set(files.map((f) => f.path));
  for (const name of readdirSync(dir)) {
    if (name.startsWith(CRD_FILE_PREFIX) && !expected.has(name)) drift.push({ path: name, problem: "stale" });
  }
  return drift;
}

function main(args: readonly string[]): number {
  const dir = args.find((a) => a.startsWith("--dir="))?.slice("--dir=".length) ?? MANIFESTS_DIR;
  const files = renderCrds(ALL_KINDS);
  const drift = findDrift(dir, files);
  if (args.includes("--check")) {
    for (const d of drift) console.error(`${join(dir, d.path)}: ${d.problem}`);
    if (drift.length > 0) console.error("CRDs are out of date: run `bun src/api/write-crds.ts`");
    return drift.length > 0 ? 1 : 0;
  }
  for (const d of drift) {
    const file = files.find((f) => f.path === d.path);
    if (file) writeFileSync(join(dir, file.path), file.content);
    else rmSync(join(dir, d.path));
    console.log(`${join(dir, d.path)}: ${d.problem === "stale" ? "removed" : "written"}`);
  }
  return 0;
}

if (import.meta.main) process.exit(main(process.argv.slice(2)));
