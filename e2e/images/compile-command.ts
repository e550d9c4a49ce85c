/**
 * The one `bun build --compile` command line of the project (package.json's `build` and the Dockerfiles spell
 * out the same): `--bytecode` and ESM roughly halve start-up, `--splitting` loads each mode's code only when
 * that mode starts, and the gateway's token-minting worker is a second entry point so the executable embeds it.
 */
export const COMPILE_ENTRYPOINTS = ["src/main.ts", "src/gateway/tokens/mint-worker.ts"] as const;

/** argv (run in the repository root) that compiles agentland into `out`. */
export function compileCommand(bun: string, out: string): string[] {
  return [
    bun,
    "build",
    "--compile",
    "--minify",
    "--bytecode",
    "--format=esm",
    "--splitting",
    ...COMPILE_ENTRYPOINTS,
    "--outfile",
    out,
  ];
}
