/**
 * agentland: one executable, three modes. Parses the config once, starts the selected component and
 * drains it on SIGTERM/SIGINT. Exit codes: 0 clean stop, 1 runtime failure, 2 bad invocation or config.
 */
import pkg from "../package.json" with { type: "json" };
import type { RunningComponent } from "./component";
import { type Config, ConfigError, loadConfig, VALID_MODES } from "./config/load-config";

const HELP = `agentland ${pkg.version}: Kubernetes-native sandbox runtime for AI agents

Usage: agentland --mode=<${VALID_MODES.join("|")}> [--setting=value ...]
       agentland --help | --version

Modes:
  gateway     public HTTP API: runs code in sandboxes and proxies agent invocations
  agentcore   controller manager and Connect-RPC session service
  korokd      code-execution daemon inside code-interpreter sandbox pods

Every setting can also be given as an environment variable: --listen-port=1 is AGENTLAND_LISTEN_PORT=1.
Common settings: --listen-host (default: $POD_IP, else 0.0.0.0), --listen-port, --log-level, --drain-timeout.
`;

async function start(config: Config): Promise<RunningComponent> {
  switch (config.mode) {
    case "gateway":
      return (await import("./gateway/start-gateway")).startGateway(config.settings);
    case "agentcore":
      return (await import("./agentcore/start-agentcore")).startAgentcore(config.settings);
    case "korokd":
      return (await import("./korokd/start-korokd")).startKorokd(config.settings);
  }
}

async function main(): Promise<number> {
  let config: Config;
  try {
    const invocation = loadConfig(process.argv.slice(2), process.env);
    if (invocation.kind !== "run") {
      process.stdout.write(invocation.kind === "help" ? HELP : `agentland ${pkg.version}\n`);
      return 0;
    }
    config = invocation.config;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`agentland: ${err.message}\nRun "agentland --help" for usage.\n`);
    return 2;
  }
  const running = await start(config);
  console.log(JSON.stringify({ msg: "started", mode: config.mode, url: running.url, version: pkg.version }));
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
  console.log(JSON.stringify({ msg: "draining", mode: config.mode, signal }));
  await running.stop(config.settings["drain-timeout"]);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(JSON.stringify({ msg: "fatal", error: String(err instanceof Error ? err.stack : err) }));
    process.exit(1);
  },
);
