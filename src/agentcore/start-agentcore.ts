/**
 * `--mode=agentcore`: the session RPC service on every replica, and — on the replica holding the Lease —
 * the controllers and session garbage collection. Any replica can die at any moment: all state is in
 * Kubernetes objects, so a standby takes over by reading them.
 */
import { hostname } from "node:os";
import type { RunningComponent } from "../component";
import type { AgentcoreSettings } from "../config/modes";
import { kubeClientFromSettings } from "../kube/client-from-settings";
import { systemClock } from "../kube/clock";
import { createLeaderElector, leaderIdentity } from "../kube/leader-election";
import { createLogger } from "../log/logger";
import { createMetricsRegistry } from "../metrics/metrics-registry";
import { createActivityRecorder } from "./gc/activity-recorder";
import { type SessionGc, startSessionGc } from "./gc/session-gc";
import type { ControllerSet } from "./manager/controller-set";
import { runControllersWhileLeading } from "./manager/start-controller-manager";
import { createAgentcoreService } from "./rpc/agentcore-service";
import { serveRpc } from "./rpc/serve-rpc";
import { handOver } from "./sessions/hand-over";
import { createSessionCache } from "./sessions/session-cache";
import type { SessionKindInfo, SessionObject } from "./sessions/session-kinds";
import { createWarmReserver } from "./sessions/warm-reservation";

export interface RunningAgentcore extends RunningComponent {
  /** Connect/gRPC-Web over HTTP/2 (the gateway's) and HTTP/1.1, `/healthz` and `/metrics`; `url` serves gRPC. */
  readonly httpUrl: string;
  isLeader(): boolean;
}

export interface AgentcoreOptions {
  /**
   * Run the controllers when leading (default true). Tests of the RPC service and GC turn them off so that
   * sessions they create by hand are not also converged into sandboxes.
   */
  readonly controllers?: boolean;
  /**
   * Wall clock for GC deadlines and activity times (default `Date.now`). Tests move it ahead to reach a
   * deadline that the CRDs' minimums put minutes away, without waiting for it.
   */
  readonly now?: () => number;
}

export async function startAgentcore(
  settings: AgentcoreSettings & { "listen-host": string },
  options: AgentcoreOptions = {},
): Promise<RunningAgentcore> {
  const log = createLogger("agentcore", settings["log-level"]);
  const client = kubeClientFromSettings(settings, "agentland-agentcore");
  const cache = createSessionCache(client, settings["allowed-namespaces"]);
  cache.start();
  let synced = false;
  void cache.waitForSync().then(() => {
    synced = true;
  });

  const metrics = createMetricsRegistry();
  metrics.gauge(
    "agentland_sessions",
    "Sessions by kind and phase, as this replica's cache sees them.",
    () => {
      const counts = new Map<string, number>();
      for (const { kind, obj } of cache.all()) {
        const key = `${kind.kind}|${obj.status?.phase ?? "Pending"}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      return [...counts].map(([key, n]) => {
        const [kind = "", phase = ""] = key.split("|");
        return [{ kind, phase }, n] as const;
      });
    },
  );
  const warm = metrics.counter(
    "agentland_session_warm_total",
    "Created sessions by whether a warm sandbox served them.",
  );
  const gcDeletions = metrics.counter("agentland_gc_deletions_total", "Sessions deleted by GC, by reason.");

  const now = options.now ?? (() => Date.now());
  /** This replica's controllers while it leads: sessions it creates are handed to them directly. */
  let leading: ControllerSet | undefined;
  const lifecycle = {
    client,
    cache,
    createTimeoutMs: settings["create-timeout"],
    log: (msg: string, fields?: Record<string, unknown>) => log.warn(msg, fields),
    onCreated: (kind: SessionKindInfo, obj: SessionObject) => {
      if (leading) handOver(leading, kind, obj);
    },
    onDeleted: (kind: SessionKindInfo, obj: SessionObject) => {
      if (leading) handOver(leading, kind, obj, true);
    },
    ...(settings["warm-reservations"] === "on"
      ? {
          reserver: createWarmReserver({
            client,
            sandboxes: cache,
            codeInterpreterPool: settings["code-interpreter-pool"],
            codeInterpreterImage: settings["code-interpreter-image"],
            clock: systemClock,
            log: (msg: string, fields?: Record<string, unknown>) => log.debug(msg, fields),
          }),
        }
      : {}),
  };
  const service = createAgentcoreService({
    ...lifecycle,
    activity: createActivityRecorder({ client, intervalMs: settings["activity-write-interval"], now }),
    defaultNamespace: settings["sandbox-namespace"],
    allowedNamespaces: settings["allowed-namespaces"],
    now,
    warm,
  });
  const rpc = await serveRpc(service, {
    hostname: settings["listen-host"],
    grpcPort: settings["listen-port"],
    httpPort: settings["http-port"],
    corsOrigins: settings["cors-origins"].split(",").filter((o) => o !== ""),
    metrics,
    ready: () => synced,
  });

  let gc: SessionGc | undefined;
  let term: { readonly stop: AbortController; readonly done: Promise<void> } | undefined;
  const identity = leaderIdentity(settings["pod-name"] ?? hostname());
  const startControllers = (leadership: AbortSignal) => {
    const stop = new AbortController();
    leadership.addEventListener("abort", () => stop.abort(leadership.reason), { once: true });
    // Re-elected right after losing: the previous term's workers must be gone before new ones start.
    const previous = term?.done;
    const done = (async () => {
      await previous;
      if (stop.signal.aborted) return;
      const running = runControllersWhileLeading({ client, settings, log, metrics, identity }, stop.signal);
      leading = running.set;
      // The RPC waiters answer from this term's own adoption writes (they end with the term's set).
      running.set.context.bindings.onBound((holder, sandbox) => cache.adopted(holder, sandbox));
      await running.done.finally(() => {
        if (leading === running.set) leading = undefined;
      });
    })();
    term = { stop, done };
  };
  const elector = createLeaderElector({
    client,
    namespace: settings["leader-election-namespace"] ?? settings["pod-namespace"] ?? "agentland-system",
    name: settings["leader-election-lease"],
    identity,
    leaseDurationMs: settings["lease-duration"],
    renewDeadlineMs: settings["renew-deadline"],
    retryPeriodMs: settings["retry-period"],
    onStartedLeading: (signal) => {
      log.info("leading: starting session GC and controllers", {
        controllers: options.controllers !== false,
      });
      gc = startSessionGc({
        client,
        cache,
        settings: {
          createTimeoutMs: settings["create-timeout"],
          failedRetentionMs: settings["failed-session-retention"],
        },
        now,
        deletions: gcDeletions,
        log: (msg, fields) => log.info(msg, fields),
      });
      if (options.controllers !== false) startControllers(signal);
      signal.addEventListener("abort", () => log.warn("leadership ended"), { once: true });
    },
    onStoppedLeading: () => {
      void gc?.stop();
      gc = undefined;
    },
    onError: (err) => log.warn("leader election", { err: String(err) }),
  });
  elector.start();
  log.info("agentcore serving", { grpc: rpc.grpcUrl, http: rpc.httpUrl });

  return {
    url: rpc.grpcUrl,
    httpUrl: rpc.httpUrl,
    isLeader: () => elector.isLeader(),
    async stop(deadlineMs) {
      // Controllers and GC stop writing before the Lease is released to a standby.
      term?.stop.abort(new Error("agentcore stopping"));
      await term?.done;
      await gc?.stop();
      await elector.stop();
      await rpc.stop(deadlineMs);
      await cache.stop();
    },
  };
}
