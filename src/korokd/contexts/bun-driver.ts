/**
 * The program a JavaScript/TypeScript context runs under the korokd executable in Bun mode. Each
 * request is transpiled with Bun's REPL transform (top-level declarations become globals, imports
 * become dynamic imports, top-level await works) and run in the global scope, so state persists.
 * The synchronous part of a cell is bounded by the VM watchdog (`timeout`), which keeps the context
 * alive; SIGINT abandons a cell that is awaiting. Errors are printed, never fatal to the context.
 */

const driver = (loader: "js" | "ts") => `(async () => {
  const vm = await import("node:vm");
  const transpiler = new Bun.Transpiler({ loader: ${JSON.stringify(loader)}, replMode: true });
  const interrupted = Symbol("interrupted");
  let abandon = null;
  process.on("SIGINT", () => { if (abandon) abandon(interrupted); });
  process.on("unhandledRejection", (err) => console.error(err));
  process.on("uncaughtException", (err) => console.error(err));
  // Show the user's error without the driver's own frames or source.
  const report = (err) => {
    if (!(err instanceof Error)) return console.error(err);
    const frames = String(err.stack ?? "").split("\\n").filter((l) => /^\\s+at /.test(l) && !l.includes("[eval]") && !l.includes("runInThisContext"));
    const code = err.code ? " (" + err.code + ")" : "";
    process.stderr.write(err.name + ": " + err.message + code + "\\n" + frames.map((l) => l + "\\n").join(""));
  };
  const write = (stream, text) => new Promise((resolve) => stream.write(text, () => resolve()));
  let cell = 0;
  async function run(request) {
    let status = 0;
    const stop = new Promise((resolve) => { abandon = resolve; });
    try {
      const js = transpiler.transformSync(request.code);
      // The cell is named as if it were a file in the workspace, so relative imports resolve there.
      const options = {
        filename: process.cwd() + "/cell-" + ++cell,
        importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
      };
      if (request.timeout_ms > 0) options.timeout = request.timeout_ms;
      const result = vm.runInThisContext(js, options);
      if (result && typeof result.then === "function") {
        if ((await Promise.race([result, stop])) === interrupted) status = 130;
      }
    } catch (err) {
      report(err);
      status = 1;
    }
    abandon = null;
    const marker = "\\x1e" + request.nonce + ":" + String(status & 255).padStart(3, "0") + "\\x1e";
    await write(process.stderr, marker);
    await write(process.stdout, marker);
  }
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of Bun.file(3).stream()) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline;
    while ((newline = buffered.indexOf("\\n")) !== -1) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      await run(JSON.parse(line));
    }
  }
  process.exit(0);
})();`;

export function bunDriverArgv(bun: string, language: "javascript" | "typescript"): string[] {
  return [bun, "-e", driver(language === "typescript" ? "ts" : "js")];
}
