/**
 * How the node runs the project's own executable for `agentland/*` images. `auto` uses the compiled
 * `dist/agentland` only when it is newer than every source file, so an edit to `src/` is never hidden
 * behind a stale build; otherwise `bun src/main.ts` runs the checkout as it is.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

export type AgentlandBuild = "auto" | "source" | "compiled";

export function agentlandArgv(repo: string, bun: string, build: AgentlandBuild): string[] {
  const compiled = join(repo, "dist", "agentland");
  const source = [bun, join(repo, "src", "main.ts")];
  if (build === "source") return source;
  if (build === "compiled") {
    if (!existsSync(compiled)) throw new Error(`--agentland=compiled but ${compiled} does not exist`);
    return [compiled];
  }
  if (!existsSync(compiled)) return source;
  return statSync(compiled).mtimeMs > newestMtime(join(repo, "src")) ? [compiled] : source;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const m = entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs;
    if (m > newest) newest = m;
  }
  return newest;
}
