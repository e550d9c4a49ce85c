/**
 * `bun e2e/node-agent/main.ts --cluster-dir=DIR [flags]` — the host-process node agent (see README.md).
 * Runs until SIGTERM/SIGINT, then stops every pod process, releases pod IPs, marks the Node NotReady
 * and exits 0. A second signal exits at once (pod sandboxes die with it: bwrap --die-with-parent).
 * Exit codes: 0 clean stop, 1 failure, 2 bad flags.
 */
import { parseAgentSettings, SettingsError } from "./agent-settings";
import { jsonLogger, startNodeAgent } from "./node-agent";

async function main(): Promise<number> {
  let settings: ReturnType<typeof parseAgentSettings>;
  try {
    settings = parseAgentSettings(process.argv.slice(2), { bun: process.execPath });
  } catch (err) {
    if (!(err instanceof SettingsError)) throw err;
    console.error(`node-agent: ${err.message}`);
    return 2;
  }
  // A daemon that owns every pod process must not die of one stray rejection (its pods would go with it).
  process.on("unhandledRejection", (err) => jsonLogger("unhandled rejection", { error: String(err) }));
  const agent = await startNodeAgent(settings);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
  jsonLogger("signal received", { signal });
  const again = () => process.exit(1);
  process.once("SIGTERM", again);
  process.once("SIGINT", again);
  await agent.stop();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    jsonLogger("fatal", { error: String(err instanceof Error ? err.stack : err) });
    process.exit(1);
  },
);
