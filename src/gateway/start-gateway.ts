/**
 * `--mode=gateway`: agentland's public API. Authenticates clients, finds or creates their sessions through
 * AgentCore, signs a token for the target sandbox on every request, and proxies to it. Stopping drains
 * requests, sends the last activity report and releases the AgentCore connection.
 */
import { hostname } from "node:os";
import type { RunningComponent } from "../component";
import type { GatewaySettings } from "../config/modes";
import { kubeClientFromSettings } from "../kube/client-from-settings";
import { type Clock, systemClock } from "../kube/clock";
import { createLogger, type Logger } from "../log/logger";
import { createActivityTracker } from "./activity/activity-tracker";
import { createAgentcoreClient } from "./agentcore/agentcore-client";
import { createApiKeyStore } from "./auth/api-key-store";
import { type AppDeps, createApp } from "./create-app";
import { createFastPath } from "./fast-path";
import { createMetrics } from "./metrics/metrics";
import type { AuthMode } from "./middleware/authenticate";
import type { Readiness } from "./routes/health";
import { serveGateway } from "./serve-gateway";
import { createSessionCache } from "./sessions/session-cache";
import { createSessionService, type RuntimeRef } from "./sessions/session-service";
import { createSigningKeyStore, type SigningKeyStore } from "./tokens/signing-key-store";
import { createTokenMinter } from "./tokens/token-minter";
import { createWorkerTokenPool } from "./tokens/worker-token-pool";
import { createUpstreamClient } from "./upstream/upstream-client";

export type GatewayStartSettings = GatewaySettings & { "listen-host": string };

export interface RunningGateway extends RunningComponent {
  /** The signing keys (tests rotate them on demand). */
  readonly keys: SigningKeyStore;
}

/** How long a resolved session is trusted before AgentCore is asked again. */
const SESSION_CACHE_TTL_MS = 2_000;
const API_KEYS_POLL_MS = 2_000;
/** Tolerated clock difference between gateway replicas and sandboxes. */
const CLOCK_SKEW_MS = 5_000;
const AGENTCORE_CALL_TIMEOUT_MS = 5_000;

export async function startGateway(
  settings: GatewayStartSettings,
  clock: Clock = systemClock,
): Promise<RunningGateway> {
  const log = createLogger("gateway", settings["log-level"]);
  const auth = authMode(settings, log);
  const keys = signingKeys(settings, clock, log);
  const minter = createWorkerTokenPool({
    inline: createTokenMinter({
      keys,
      issuer: settings["token-issuer"],
      lifetimeMs: settings["token-lifetime"],
      clock,
    }),
    keys,
    issuer: settings["token-issuer"],
    lifetimeMs: settings["token-lifetime"],
    // Far below the token lifetime: a pooled token reaches its sandbox with nearly all of its life left.
    maxAgeMs: 2_000,
    maxTargets: 10_000,
    now: () => clock.monotonic(),
    log,
  });
  const agentcore = createAgentcoreClient({
    baseUrl: settings["agentcore-url"],
    createTimeoutMs: settings["upstream-timeout"],
    callTimeoutMs: AGENTCORE_CALL_TIMEOUT_MS,
  });
  const metrics = createMetrics();
  const upstream = createUpstreamClient();
  const cache = createSessionCache({
    ttlMs: SESSION_CACHE_TTL_MS,
    maxEntries: 50_000,
    now: () => clock.monotonic(),
  });
  const sessions = createSessionService({
    agentcore,
    cache,
    metrics,
    codeInterpreterNamespace: settings["default-namespace"],
    maxSessionsPerPrincipal: settings["max-sessions-per-principal"],
  });
  const activity = createActivityTracker({
    reporter: `${settings["pod-name"] ?? hostname()}/${process.pid}`,
    intervalMs: settings["activity-report-interval"],
    clock,
    send: (reporter, batch, signal) => agentcore.recordActivity(reporter, batch, signal),
    onUnknown: (id) => cache.forget(id),
    log,
  });
  const readiness: Readiness = {
    checks: { agentcore: (signal) => agentcore.probe(signal), signing_key: () => keys.ready() },
    warnings: auth.kind === "none" ? [AUTH_NONE_WARNING] : [],
  };
  const appDeps: AppDeps = {
    auth,
    readiness,
    log,
    sessions,
    minter,
    activity,
    metrics,
    upstream,
    runBodyLimitBytes: settings["run-body-limit-bytes"],
    upstreamTimeoutMs: settings["upstream-timeout"],
    allowedNamespaces: new Set(settings["allowed-namespaces"]),
    defaultNamespace: settings["default-namespace"],
    defaultRuntime: parseRuntime(settings["default-runtime"], settings["default-namespace"]),
  };
  keys.start();
  activity.start();
  const server = serveGateway(createApp(appDeps), createFastPath(appDeps), {
    hostname: settings["listen-host"],
    port: settings["listen-port"],
  });
  log.info("gateway serving", { url: server.url, auth: auth.kind, agentcore: settings["agentcore-url"] });
  return {
    url: server.url,
    keys,
    async stop(deadlineMs) {
      await server.stop(deadlineMs);
      await activity.stop();
      keys.stop();
      minter.stop();
      if (auth.kind === "api-keys") auth.store.stop();
      agentcore.close();
      upstream.close();
    },
  };
}

const AUTH_NONE_WARNING =
  "client authentication is disabled (--auth=none): anyone who can reach the gateway can create sandboxes and run code";

function authMode(settings: GatewayStartSettings, log: Logger): AuthMode {
  if (settings.auth === "none") {
    log.warn(AUTH_NONE_WARNING);
    return { kind: "none" };
  }
  return {
    kind: "api-keys",
    store: createApiKeyStore({ path: settings["api-keys-path"], pollIntervalMs: API_KEYS_POLL_MS, log }),
  };
}

function signingKeys(settings: GatewayStartSettings, clock: Clock, log: Logger): SigningKeyStore {
  const propagation = settings["key-propagation-delay"];
  return createSigningKeyStore({
    kube: kubeClientFromSettings(settings, "agentland-gateway"),
    namespace: settings["pod-namespace"] ?? "agentland-system",
    secretName: settings["signing-key-secret"],
    jwksConfigMap: settings["jwks-configmap"],
    sandboxNamespaces: settings["allowed-namespaces"],
    policy: {
      rotationIntervalMs: settings["key-rotation-interval"],
      propagationDelayMs: propagation,
      tokenLifetimeMs: settings["token-lifetime"],
      clockSkewMs: CLOCK_SKEW_MS,
    },
    clock,
    log,
    // Every replica must see a new key well before it starts signing with it.
    syncIntervalMs: Math.min(10_000, Math.max(200, Math.floor(propagation / 3))),
  });
}

/** `default-runtime` is `name` (in the default namespace) or `namespace/name`; empty means none. */
export function parseRuntime(value: string, defaultNamespace: string): RuntimeRef | undefined {
  if (value === "") return undefined;
  const slash = value.indexOf("/");
  return slash === -1
    ? { name: value, namespace: defaultNamespace }
    : { namespace: value.slice(0, slash), name: value.slice(slash + 1) };
}
