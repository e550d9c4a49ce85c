/**
 * One valibot schema per mode. Each mode's issue adds the settings its component needs here;
 * `load-config.ts` parses flags and env against the schema of the selected mode.
 */
import * as v from "valibot";
import { durationMs, listenHost, logLevel, port, positiveInt } from "./settings";

/** Settings every mode has. `pod-*` come from the downward API (`POD_IP`, `POD_NAME`, `POD_NAMESPACE`). */
const common = {
  "listen-host": listenHost,
  "log-level": logLevel,
  "drain-timeout": durationMs("10s"),
  "pod-ip": v.optional(v.string()),
  "pod-name": v.optional(v.string()),
  "pod-namespace": v.optional(v.string()),
};

const onOff = (fallback: "true" | "false") =>
  v.optional(
    v.pipe(
      v.picklist(["true", "false"], "must be true or false"),
      v.transform((s) => s === "true"),
    ),
    fallback,
  );
const absolutePath = (fallback: string) =>
  v.optional(v.pipe(v.string(), v.startsWith("/", "must be an absolute path")), fallback);

/** Korokd: JWT verification (audience = `pod-namespace/pod-name`), interpreters, limits and hygiene. */
export const korokdSettings = v.object({
  ...common,
  "listen-port": port(1883),
  "jwks-path": absolutePath("/etc/agentland/jwks/jwks.json"),
  "jwks-poll-interval": durationMs("1s"),
  "token-issuer": v.optional(v.pipe(v.string(), v.nonEmpty("must not be empty")), "agentland-gateway"),
  "token-max-lifetime": durationMs("5m"),
  "token-clock-skew": durationMs("5s"),
  "python-path": absolutePath("/usr/bin/python3"),
  "bash-path": absolutePath("/bin/bash"),
  "sh-path": absolutePath("/bin/sh"),
  "workspace-dir": absolutePath("/workspace"),
  "scratch-dir": absolutePath("/tmp"),
  "default-timeout": durationMs("30s"),
  "max-timeout": durationMs("5m"),
  "kill-grace": durationMs("2s"),
  "output-limit-bytes": positiveInt(1024 * 1024),
  "body-limit-bytes": positiveInt(2 * 1024 * 1024),
  "max-concurrent-runs": positiveInt(4),
  "max-contexts": positiveInt(16),
  "sse-heartbeat": durationMs("15s"),
  prewarm: onOff("true"),
  /** One-shot python runs fork a booted interpreter (the zygote) instead of starting one each. */
  "fork-server": onOff("true"),
  /** Before reporting ready, run one request through every path (token check, hand-over, HTTP) off the record. */
  "warm-up": onOff("true"),
  /** Adopt and reap orphaned grandchildren (PR_SET_CHILD_SUBREAPER); on by default when korokd is PID 1. */
  subreaper: v.optional(v.picklist(["auto", "true", "false"], "must be auto, true or false"), "auto"),
});

const name = (fallback: string) =>
  v.optional(
    v.pipe(v.string(), v.regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a Kubernetes name")),
    fallback,
  );
const nameList = (fallback: string) =>
  v.optional(
    v.pipe(
      v.string(),
      v.regex(/^[a-z0-9-]+(,[a-z0-9-]+)*$/, "must be a comma-separated list of namespaces"),
      v.transform((s) => s.split(",")),
    ),
    fallback,
  );
const optionalPath = v.optional(v.pipe(v.string(), v.startsWith("/", "must be an absolute path")));

/** Where a component finds the apiserver: a kubeconfig file, else the in-cluster ServiceAccount. */
const kube = {
  kubeconfig: optionalPath,
  "kubernetes-service-host": v.optional(v.string()),
  "kubernetes-service-port": v.optional(v.string()),
  "kube-qps": positiveInt(50),
  "kube-burst": positiveInt(100),
};

/** AgentCore: session service, controllers (leader only), garbage collection. */
export const agentcoreSettings = v.object({
  ...common,
  ...kube,
  /** gRPC, gRPC-Web and Connect over HTTP/2 cleartext (`node:http2`), for gRPC clients. */
  "listen-port": port(8082),
  /**
   * Connect and gRPC-Web over HTTP/1.1 (browsers) and HTTP/2 cleartext (the gateway's path), plus /healthz
   * and /metrics.
   */
  "http-port": port(8083),
  /** Namespace for sessions whose request names none. */
  "sandbox-namespace": name("agentland-sandboxes"),
  /** Namespaces sessions may be created in (and whose CRs the controllers watch). */
  "allowed-namespaces": nameList("agentland-sandboxes"),
  "leader-election-namespace": v.optional(v.string()),
  "leader-election-lease": name("agentland-agentcore"),
  "lease-duration": durationMs("15s"),
  "renew-deadline": durationMs("10s"),
  "retry-period": durationMs("2s"),
  /** The korokd image of a CodeInterpreter that names no sandboxTemplate. */
  "code-interpreter-image": v.optional(v.pipe(v.string(), v.nonEmpty()), "agentland/code-interpreter:0.1.0"),
  /** Pool a CodeInterpreter without provisioning settings claims from (PoolPreferred). */
  "code-interpreter-pool": name("code-interpreter"),
  /** JWKS ConfigMap (published by the gateway) mounted into sandbox pods for korokd. */
  "jwks-configmap": name("agentland-sandbox-jwks"),
  /**
   * A warm create reserves its sandbox alongside the session's POST (on), or waits for the leader's chained
   * writes (off). On an idle 2-core machine "on" answered in 0.57-0.80x the time of "off" (bench agentcore,
   * two runs); on one whose cores are saturated the two parallel writes cost about their sum.
   */
  "warm-reservations": v.optional(v.picklist(["on", "off"], "must be on or off"), "on"),
  "create-timeout": durationMs("60s"),
  "failed-session-retention": durationMs("60s"),
  "activity-write-interval": durationMs("10s"),
  /** Browser origins allowed to call the Connect API (comma-separated); empty allows none. */
  "cors-origins": v.optional(v.string(), ""),
  workers: positiveInt(8, 256),
});

/** Gateway: public API, client authentication, sandbox tokens, proxy. */
export const gatewaySettings = v.object({
  ...common,
  ...kube,
  "listen-port": port(8080),
  "agentcore-url": v.optional(
    v.pipe(v.string(), v.url()),
    "http://agentland-agentcore.agentland-system.svc:8083",
  ),
  auth: v.optional(v.picklist(["api-keys", "none"], "must be api-keys or none"), "api-keys"),
  /** Mounted Secret with hashed API keys (see README: API keys). */
  "api-keys-path": absolutePath("/etc/agentland/api-keys/keys.json"),
  "signing-key-secret": name("agentland-gateway-signing-keys"),
  "jwks-configmap": name("agentland-sandbox-jwks"),
  "token-issuer": v.optional(v.pipe(v.string(), v.nonEmpty("must not be empty")), "agentland-gateway"),
  "token-lifetime": durationMs("60s"),
  "key-rotation-interval": durationMs("24h"),
  "key-propagation-delay": durationMs("15s"),
  "allowed-namespaces": nameList("agentland-sandboxes"),
  "default-namespace": name("agentland-sandboxes"),
  "default-runtime": v.optional(v.string(), ""),
  "max-sessions-per-principal": positiveInt(20),
  "run-body-limit-bytes": positiveInt(10 * 1024 * 1024),
  "upstream-timeout": durationMs("65s"),
  "activity-report-interval": durationMs("1s"),
});

export const MODES = {
  gateway: gatewaySettings,
  agentcore: agentcoreSettings,
  korokd: korokdSettings,
} as const;

export type Mode = keyof typeof MODES;

export type GatewaySettings = v.InferOutput<typeof gatewaySettings>;
export type AgentcoreSettings = v.InferOutput<typeof agentcoreSettings>;
export type KorokdSettings = v.InferOutput<typeof korokdSettings>;
