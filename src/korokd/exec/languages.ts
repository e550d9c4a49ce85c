/**
 * The languages korokd runs and how each interpreter is started. Every interpreter is launched *before*
 * its program is known (that is what lets the warm pool pre-start it) and then receives the program
 * through stdin or a file, never through argv (argv strings are capped at 128 KiB by Linux).
 */

export const LANGUAGES = ["python", "javascript", "typescript", "bash", "sh"] as const;
export type Language = (typeof LANGUAGES)[number];

export function isLanguage(value: string): value is Language {
  return (LANGUAGES as readonly string[]).includes(value);
}

/** One warm process serves every language of its runtime (JS and TS share the Bun loader). */
export type RuntimeKind = "python" | "bun" | "bash" | "sh";

export interface RuntimePaths {
  readonly python: string;
  readonly bash: string;
  readonly sh: string;
  /** The korokd executable itself; with BUN_BE_BUN=1 it behaves as the `bun` CLI. */
  readonly bun: string;
}

export interface LaunchSpec {
  readonly runtime: RuntimeKind;
  readonly argv: readonly string[];
  /** `stdin`: the program is written to stdin and stdin closed. `file`: a path to it is written instead. */
  readonly delivery: "stdin" | "file";
  /** Where the program file lives: JS/TS next to the user's files so relative imports resolve. */
  readonly fileDir: "workspace" | "scratch";
  /** Variables the runtime needs whatever the request says. */
  readonly forcedEnv: Readonly<Record<string, string>>;
}

/**
 * What every Bun-run program gets, one-shot or in a context: the korokd executable behaves as the `bun`
 * CLI, and it runs without Bun's idle-collection timer, which would wake each waiting interpreter and each
 * idle context once a second (~0.35 ms of CPU per second apiece, in every warm pod). JavaScriptCore's own
 * collections, paced by allocation, still run. Korokd's image sets the same for korokd itself
 * (e2e/images/korokd-env.ts).
 */
export const BUN_RUNTIME_ENV: Readonly<Record<string, string>> = {
  BUN_BE_BUN: "1",
  BUN_GC_TIMER_DISABLE: "1",
};

/**
 * Reads the program path from stdin, then imports it: the VM is already up when the code arrives.
 * The file is removed as soon as the module has been evaluated.
 */
const BUN_LOADER = `const path = (await Bun.stdin.text()).trim();
try { await import(path); } finally { (await import("node:fs")).rmSync(path, { force: true }); }`;

/** Sources the file named on the first stdin line, in the already running shell; no variable is left. */
const SHELL_LOADER = `. "$(IFS= read -r l; printf '%s' "$l")"`;

export function launchSpec(runtime: RuntimeKind, paths: RuntimePaths): LaunchSpec {
  switch (runtime) {
    case "python":
      // `python3 -` reads the whole program before running it, so it can be started ahead of time.
      return spec(runtime, [paths.python, "-"], "stdin", "scratch", {});
    case "bun":
      return spec(runtime, [paths.bun, "-e", BUN_LOADER], "file", "workspace", BUN_RUNTIME_ENV);
    case "bash":
      return spec(runtime, [paths.bash, "-c", SHELL_LOADER, "bash"], "file", "scratch", {});
    case "sh":
      return spec(runtime, [paths.sh, "-c", SHELL_LOADER, "sh"], "file", "scratch", {});
  }
}

export function runtimeOf(language: Language): RuntimeKind {
  if (language === "javascript" || language === "typescript") return "bun";
  return language;
}

/** The file extension a program in `language` is stored under; Bun picks its loader by it. */
export function programExt(language: Language): string {
  if (language === "javascript") return ".js";
  if (language === "typescript") return ".ts";
  if (language === "python") return ".py";
  return ".sh";
}

function spec(
  runtime: RuntimeKind,
  argv: string[],
  delivery: LaunchSpec["delivery"],
  fileDir: LaunchSpec["fileDir"],
  forcedEnv: Readonly<Record<string, string>>,
): LaunchSpec {
  return { runtime, argv, delivery, fileDir, forcedEnv };
}
