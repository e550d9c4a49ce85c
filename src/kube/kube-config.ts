/**
 * Where the apiserver is and how to authenticate to it, from a kubeconfig file or from inside a pod.
 * The caller passes paths and environment values in (only `src/config/` reads the environment); files
 * named by a kubeconfig are read once here, except token files, which are re-read when they rotate.
 */
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import * as v from "valibot";
import { type Clock, systemClock } from "./clock";
import { KubeError } from "./kube-error";
import { fileToken, staticToken, type TokenSource } from "./token-source";

export interface KubeTls {
  /** PEM bundle of trusted CAs; absent = the system store. */
  readonly ca?: string;
  /** PEM client certificate and key for mutual TLS. */
  readonly cert?: string;
  readonly key?: string;
  readonly insecureSkipVerify: boolean;
  /** Name to verify the serving certificate against instead of the URL's host (`tls-server-name`). */
  readonly serverName?: string;
}

export interface KubeConfig {
  /** Base URL without a trailing slash, e.g. `https://127.0.0.1:6443`. */
  readonly server: string;
  readonly tls: KubeTls;
  readonly token?: TokenSource;
  /** The context's namespace, the pod's own namespace in-cluster, else `default`. */
  readonly namespace: string;
  /** Human-readable origin for logs: `kubeconfig <path> context <name>` or `in-cluster`. */
  readonly source: string;
}

/** Where a pod's ServiceAccount credentials are mounted. */
export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

const str = v.optional(v.string());
const clusterSchema = v.looseObject({
  server: v.string(),
  "certificate-authority": str,
  "certificate-authority-data": str,
  "insecure-skip-tls-verify": v.optional(v.boolean()),
  "tls-server-name": str,
});
const userSchema = v.looseObject({
  "client-certificate": str,
  "client-certificate-data": str,
  "client-key": str,
  "client-key-data": str,
  token: str,
  tokenFile: str,
});
const contextSchema = v.looseObject({ cluster: v.string(), user: str, namespace: str });
const kubeconfigSchema = v.looseObject({
  clusters: v.optional(v.array(v.object({ name: v.string(), cluster: clusterSchema })), []),
  users: v.optional(v.array(v.object({ name: v.string(), user: v.optional(userSchema, {}) })), []),
  contexts: v.optional(v.array(v.object({ name: v.string(), context: contextSchema })), []),
  "current-context": str,
});

export interface KubeconfigOptions {
  /** Use this context instead of `current-context`. */
  readonly context?: string;
  readonly clock?: Clock;
}

/** Loads one kubeconfig file. Relative file references resolve against the file's directory. */
export function loadKubeconfigFile(path: string, opts: KubeconfigOptions = {}): KubeConfig {
  const parsed = v.safeParse(kubeconfigSchema, parseYaml(readText(path, "kubeconfig"), path));
  if (!parsed.success) {
    const at = parsed.issues[0].path?.map((p) => String(p.key)).join(".") ?? "";
    throw configError(`kubeconfig ${path}: ${at ? `${at}: ` : ""}${parsed.issues[0].message}`);
  }
  const doc = parsed.output;
  const contextName = opts.context ?? doc["current-context"];
  if (!contextName) throw configError(`kubeconfig ${path}: no current-context and no context given`);
  const { context } = find(doc.contexts, contextName, "context", path);
  const { cluster } = find(doc.clusters, context.cluster, "cluster", path);
  const user: v.InferOutput<typeof userSchema> = context.user
    ? find(doc.users, context.user, "user", path).user
    : {};
  const base = dirname(path);
  const file = (p: string | undefined, what: string) =>
    p === undefined ? undefined : readText(isAbsolute(p) ? p : join(base, p), what);
  const data = (b64: string | undefined) =>
    b64 === undefined ? undefined : Buffer.from(b64, "base64").toString("utf8");
  const tokenPath =
    user.tokenFile && (isAbsolute(user.tokenFile) ? user.tokenFile : join(base, user.tokenFile));
  const token = user.token
    ? staticToken(user.token)
    : tokenPath
      ? fileToken(tokenPath, opts.clock ? { clock: opts.clock } : {})
      : undefined;
  return {
    server: cluster.server.replace(/\/+$/, ""),
    tls: compact({
      ca: data(cluster["certificate-authority-data"]) ?? file(cluster["certificate-authority"], "CA file"),
      cert: data(user["client-certificate-data"]) ?? file(user["client-certificate"], "client certificate"),
      key: data(user["client-key-data"]) ?? file(user["client-key"], "client key"),
      insecureSkipVerify: cluster["insecure-skip-tls-verify"] ?? false,
      serverName: cluster["tls-server-name"],
    }),
    ...(token ? { token } : {}),
    namespace: context.namespace || "default",
    source: `kubeconfig ${path} context ${contextName}`,
  };
}

export interface InClusterOptions {
  /** `KUBERNETES_SERVICE_HOST` and `KUBERNETES_SERVICE_PORT`, passed in by the config module. */
  readonly host: string;
  readonly port: string | number;
  /** The mounted ServiceAccount directory (token, ca.crt, namespace); default {@link SERVICE_ACCOUNT_DIR}. */
  readonly serviceAccountDir?: string;
  readonly clock?: Clock;
}

/** The config of a process running in a pod, authenticated as its ServiceAccount. */
export function loadInClusterConfig(opts: InClusterOptions): KubeConfig {
  if (!opts.host || !String(opts.port)) {
    throw configError("in-cluster config needs KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT");
  }
  const dir = opts.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const host = opts.host.includes(":") ? `[${opts.host}]` : opts.host;
  const token = fileToken(join(dir, "token"), { clock: opts.clock ?? systemClock });
  token.token(); // fail now, with a clear message, rather than on the first request
  let namespace = "default";
  try {
    namespace = readFileSync(join(dir, "namespace"), "utf8").trim() || "default";
  } catch {
    // A token without the namespace file (e.g. a hand-mounted token) is still usable.
  }
  return {
    server: `https://${host}:${opts.port}`,
    tls: { ca: readText(join(dir, "ca.crt"), "ServiceAccount CA"), insecureSkipVerify: false },
    token,
    namespace,
    source: "in-cluster",
  };
}

function find<T extends { name: string }>(list: readonly T[], name: string, what: string, path: string): T {
  const hit = list.find((e) => e.name === name);
  if (!hit) throw configError(`kubeconfig ${path}: ${what} "${name}" not found`);
  return hit;
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw configError(`cannot read ${what} ${path}: ${(err as Error).message}`, err);
  }
}

function parseYaml(text: string, path: string): unknown {
  try {
    return Bun.YAML.parse(text);
  } catch (err) {
    throw configError(`kubeconfig ${path} is not valid YAML: ${(err as Error).message}`, err);
  }
}

function configError(message: string, cause?: unknown): KubeError {
  return new KubeError(message, { code: 0, reason: "BadRequest", cause });
}

/** Drops undefined values so the result satisfies `exactOptionalPropertyTypes`. */
function compact<T extends object>(obj: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(obj).filter(([, val]) => val !== undefined)) as never;
}
