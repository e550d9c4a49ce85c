/**
 * Turns command-line flags and environment variables into one flat record of raw strings.
 *
 * Every setting has one canonical name in kebab-case (`listen-port`). It can be given as a flag
 * (`--listen-port=8080` or `--listen-port 8080`) or as an environment variable (`AGENTLAND_LISTEN_PORT`);
 * a flag wins over the environment. Validation happens later, per mode, in one valibot schema.
 */

export type RawSettings = Readonly<Record<string, string>>;

export interface ParsedArgv {
  readonly flags: RawSettings;
  readonly booleans: ReadonlySet<string>;
  readonly positionals: readonly string[];
}

/** Flags that take no value. */
const BOOLEAN_FLAGS = new Set(["help", "version"]);

export function parseArgv(argv: readonly string[]): ParsedArgv {
  const flags: Record<string, string> = {};
  const booleans = new Set<string>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith("--") || arg === "--") {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    if (eq !== -1) flags[name] = arg.slice(eq + 1);
    else if (BOOLEAN_FLAGS.has(name)) booleans.add(name);
    else if (i + 1 < argv.length && !(argv[i + 1] as string).startsWith("--"))
      flags[name] = argv[++i] as string;
    else flags[name] = "true";
  }
  return { flags, booleans, positionals };
}

export function envName(setting: string): string {
  return `AGENTLAND_${setting.toUpperCase().replaceAll("-", "_")}`;
}

/** Reads `AGENTLAND_*` variables back into kebab-case setting names. */
export function settingsFromEnv(env: Readonly<Record<string, string | undefined>>): RawSettings {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith("AGENTLAND_") || value === undefined) continue;
    out[key.slice("AGENTLAND_".length).toLowerCase().replaceAll("_", "-")] = value;
  }
  return out;
}
