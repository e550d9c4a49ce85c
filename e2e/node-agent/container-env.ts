/**
 * A container's environment and argv, as the kubelet builds them: `KUBERNETES_SERVICE_*` first (here
 * pointing at the local apiserver), then `envFrom` sources in order, then `env` entries (later wins);
 * `$(VAR)` in values, command and args expands against what is defined so far (`$$` escapes).
 * Missing Secrets/ConfigMaps/keys fail with CreateContainerConfigError unless marked optional.
 */
import { FieldRefError, resolveFieldRef, resolveResourceField } from "./field-ref";
import type { ImageTarget } from "./image-map";
import type { Container, ObjectSource, Pod, PodRuntimeInfo } from "./pod-types";

export class ContainerConfigError extends Error {
  override readonly name = "ContainerConfigError";
  readonly reason = "CreateContainerConfigError";
}

export interface ApiserverAddress {
  readonly host: string;
  readonly port: number;
}

/** Replaces `$(NAME)` with defined values; unknown references stay as written; `$$` is a literal `$`. */
export function expandVars(input: string, vars: Readonly<Record<string, string>>): string {
  return input.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (whole, name: string | undefined) => {
    if (name === undefined) return "$";
    return Object.hasOwn(vars, name) ? (vars[name] as string) : whole;
  });
}

export function kubernetesServiceEnv(api: ApiserverAddress): Record<string, string> {
  const url = `tcp://${api.host}:${api.port}`;
  return {
    KUBERNETES_SERVICE_HOST: api.host,
    KUBERNETES_SERVICE_PORT: String(api.port),
    KUBERNETES_SERVICE_PORT_HTTPS: String(api.port),
    KUBERNETES_PORT: url,
    KUBERNETES_PORT_443_TCP: url,
    KUBERNETES_PORT_443_TCP_PROTO: "tcp",
    KUBERNETES_PORT_443_TCP_PORT: String(api.port),
    KUBERNETES_PORT_443_TCP_ADDR: api.host,
  };
}

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

export interface EnvInput {
  readonly pod: Pod;
  readonly container: Container;
  readonly info: PodRuntimeInfo;
  readonly api: ApiserverAddress;
  readonly objects: ObjectSource;
  readonly signal?: AbortSignal;
}

export async function buildContainerEnv(input: EnvInput): Promise<Record<string, string>> {
  const { pod, container } = input;
  const ns = pod.metadata?.namespace ?? "default";
  const env: Record<string, string> = kubernetesServiceEnv(input.api);
  for (const from of container.envFrom ?? []) {
    const ref = from.secretRef ?? from.configMapRef;
    if (!ref?.name) continue;
    const kind = from.secretRef ? "secret" : "configmap";
    const data = await readData(input, kind, ns, ref.name, ref.optional ?? false);
    for (const [key, value] of Object.entries(data ?? {})) {
      const name = `${from.prefix ?? ""}${key}`;
      if (ENV_NAME.test(name)) env[name] = value;
    }
  }
  for (const entry of container.env ?? []) {
    const value = entry.valueFrom
      ? await valueFrom(input, ns, entry.valueFrom)
      : expandVars(entry.value ?? "", env);
    if (value !== undefined) env[entry.name] = value;
  }
  return env;
}

type ValueFrom = NonNullable<NonNullable<Container["env"]>[number]["valueFrom"]>;

async function valueFrom(input: EnvInput, ns: string, from: ValueFrom): Promise<string | undefined> {
  try {
    if (from.fieldRef) return resolveFieldRef(input.pod, from.fieldRef.fieldPath, input.info);
    if (from.resourceFieldRef) {
      return resolveResourceField(input.pod, from.resourceFieldRef, input.info, input.container);
    }
  } catch (err) {
    if (err instanceof FieldRefError) throw new ContainerConfigError(err.message);
    throw err;
  }
  const ref = from.secretKeyRef ?? from.configMapKeyRef;
  if (!ref) throw new ContainerConfigError("env valueFrom names no source");
  const kind = from.secretKeyRef ? "secret" : "configmap";
  const optional = ref.optional ?? false;
  const data = await readData(input, kind, ns, ref.name ?? "", optional);
  if (data === undefined) return undefined;
  const value = data[ref.key];
  if (value === undefined && !optional) {
    throw new ContainerConfigError(
      `couldn't find key ${ref.key} in ${kind === "secret" ? "Secret" : "ConfigMap"} ${ns}/${ref.name}`,
    );
  }
  return value;
}

/** Decoded string data of a Secret/ConfigMap; undefined when it is missing and optional. */
async function readData(
  input: EnvInput,
  kind: "secret" | "configmap",
  ns: string,
  name: string,
  optional: boolean,
): Promise<Record<string, string> | undefined> {
  if (kind === "secret") {
    const secret = await input.objects.secret(ns, name, input.signal);
    if (!secret) return missing(optional, `secret "${name}" not found`);
    const out: Record<string, string> = { ...secret.stringData };
    for (const [k, b64] of Object.entries(secret.data ?? {}))
      out[k] = Buffer.from(b64, "base64").toString("utf8");
    return out;
  }
  const cm = await input.objects.configMap(ns, name, input.signal);
  if (!cm) return missing(optional, `configmap "${name}" not found`);
  const out: Record<string, string> = { ...cm.data };
  for (const [k, b64] of Object.entries(cm.binaryData ?? {}))
    out[k] = Buffer.from(b64, "base64").toString("utf8");
  return out;
}

function missing(optional: boolean, message: string): undefined {
  if (!optional) throw new ContainerConfigError(message);
  return undefined;
}

/**
 * The argv a container runs: `command` replaces the image ENTRYPOINT (and drops its CMD), `args`
 * replaces CMD; `$(VAR)` references expand against the container's environment.
 */
export function containerArgv(
  container: Container,
  image: ImageTarget,
  env: Readonly<Record<string, string>>,
): string[] {
  const command = container.command?.length ? container.command : undefined;
  const args = container.args?.length ? container.args : undefined;
  const argv = command
    ? [...command, ...(args ?? [])].map((a) => expandVars(a, env))
    : [...image.entrypoint, ...(args ? args.map((a) => expandVars(a, env)) : image.cmd)];
  return argv;
}
