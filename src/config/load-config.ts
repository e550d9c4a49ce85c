/**
 * The only place that reads argv and the environment. Produces one typed, validated config or a
 * `ConfigError` that names the offending setting; `main.ts` turns that into exit code 2.
 */
import * as v from "valibot";
import { parseArgv, settingsFromEnv } from "./argv";
import { type AgentcoreSettings, type GatewaySettings, type KorokdSettings, MODES, type Mode } from "./modes";
import { defaultListenHost } from "./settings";

export type Config =
  | { readonly mode: "gateway"; readonly settings: GatewaySettings & { "listen-host": string } }
  | { readonly mode: "agentcore"; readonly settings: AgentcoreSettings & { "listen-host": string } }
  | { readonly mode: "korokd"; readonly settings: KorokdSettings & { "listen-host": string } };

export type Invocation =
  | { readonly kind: "help" }
  | { readonly kind: "version" }
  | { readonly kind: "run"; readonly config: Config };

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(setting === "" ? message : `--${setting}: ${message}`);
  }
}

/**
 * Variables a pod gets without the AGENTLAND_ prefix: the downward API's (as agentland's manifests name
 * them) and the apiserver address Kubernetes injects for in-cluster clients.
 */
const POD_ENV = {
  POD_IP: "pod-ip",
  POD_NAME: "pod-name",
  POD_NAMESPACE: "pod-namespace",
  KUBERNETES_SERVICE_HOST: "kubernetes-service-host",
  KUBERNETES_SERVICE_PORT: "kubernetes-service-port",
} as const;

export const VALID_MODES = Object.keys(MODES) as Mode[];

export function loadConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Invocation {
  const { flags, booleans, positionals } = parseArgv(argv);
  if (booleans.has("help")) return { kind: "help" };
  if (booleans.has("version")) return { kind: "version" };
  if (positionals.length > 0) throw new ConfigError("", `unexpected argument "${positionals[0]}"`);

  const mode = flags["mode"] ?? env["AGENTLAND_MODE"];
  if (mode === undefined) throw new ConfigError("mode", `missing; valid modes: ${VALID_MODES.join(", ")}`);
  if (!isMode(mode)) {
    throw new ConfigError("mode", `unknown mode "${mode}"; valid modes: ${VALID_MODES.join(", ")}`);
  }
  const schema = MODES[mode];
  for (const name of Object.keys(flags)) {
    if (name !== "mode" && !(name in schema.entries))
      throw new ConfigError(name, `unknown flag for mode ${mode}`);
  }
  const raw: Record<string, string> = {};
  for (const [name, setting] of Object.entries(POD_ENV)) {
    const value = env[name];
    if (value !== undefined && value !== "" && setting in schema.entries) raw[setting] = value;
  }
  Object.assign(raw, pick(settingsFromEnv(env), schema.entries), flags);
  delete raw["mode"];
  const parsed = v.safeParse(schema, raw);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const key = issue.path?.map((p) => String(p.key)).join(".") ?? "";
    throw new ConfigError(key, issue.message);
  }
  const settings = {
    ...parsed.output,
    "listen-host": parsed.output["listen-host"] ?? defaultListenHost(parsed.output["pod-ip"]),
  };
  return { kind: "run", config: { mode, settings } as Config };
}

function isMode(value: string): value is Mode {
  return Object.hasOwn(MODES, value);
}

/** Env vars of other modes may be present (one ConfigMap for all): keep only this mode's settings. */
function pick(settings: Readonly<Record<string, string>>, entries: object): Record<string, string> {
  return Object.fromEntries(Object.entries(settings).filter(([k]) => k in entries));
}
