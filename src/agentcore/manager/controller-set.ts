/**
 * One leadership term's worth of controllers: informers for every kind in the watched namespaces, one work
 * queue and reconciler per kind, and the bookkeeping they share. Built fresh on each election and discarded
 * when leadership ends, so a new term starts from a consistent list of the world, never from memory.
 */

import { LABELS, MANAGED_BY } from "../../api/reserved-keys";
import {
  AGENT_RUNTIMES,
  AGENT_SESSIONS,
  CODE_INTERPRETERS,
  SANDBOX_CLAIMS,
  SANDBOX_POOLS,
  SANDBOXES,
} from "../../api/resource-types";
import { type Clock, systemClock } from "../../kube/clock";
import type { KubeClient } from "../../kube/kube-client";
import { isConflict } from "../../kube/kube-error";
import { PODS } from "../../kube/resources";
import { createWorkQueue, type WorkQueue } from "../../kube/work-queue";
import type { Logger } from "../../log/logger";
import type { MetricsRegistry } from "../../metrics/metrics-registry";
import { createAgentRuntimeReconciler } from "../controllers/agent-runtime";
import { createAgentSessionReconciler } from "../controllers/agent-session";
import { createClaimBindings } from "../controllers/claim-bindings";
import { createCodeInterpreterReconciler } from "../controllers/code-interpreter";
import type {
  Caches,
  Clients,
  ControllerContext,
  ControllerSettings,
  Reconciler,
} from "../controllers/controller-context";
import { createEventRecorder } from "../controllers/event-recorder";
import { createExpectations } from "../controllers/expectations";
import { createOutdatedVersions } from "../controllers/outdated-versions";
import { createSandboxReconciler } from "../controllers/sandbox";
import { createSandboxClaimReconciler } from "../controllers/sandbox-claim";
import { createSandboxPoolReconciler } from "../controllers/sandbox-pool";
import { createAdoptionsInFlight } from "../controllers/warm-adoption";
import { createWriteMemo } from "../controllers/write-memo";
import type { Pod } from "../render/render-pod";
import { type ControllerName, routeEvents } from "./event-routing";
import {
  agentSessionIndexers,
  byController,
  claimIndexers,
  codeInterpreterIndexers,
  poolIndexers,
  sandboxIndexers,
} from "./indexers";
import { createNamespacedInformers, type NamespacedInformers } from "./namespaced-informers";

export interface ControllerSetOptions {
  readonly client: KubeClient;
  readonly namespaces: readonly string[];
  readonly settings: ControllerSettings;
  /** Concurrent reconciles per controller. */
  readonly workers: number;
  /** Who writes events (this replica). */
  readonly identity: string;
  readonly log: Logger;
  readonly clock?: Clock;
  readonly random?: () => number;
  readonly metrics?: MetricsRegistry;
  /** Every cached object is reconciled again this often, a safety net for missed wake-ups (default 10 min). */
  readonly resyncMs?: number;
}

export interface ControllerSet {
  readonly context: ControllerContext;
  readonly reconcilers: Readonly<Record<ControllerName, Reconciler>>;
  /**
   * Starts the informers, waits for their first lists, then starts the workers (unless `reconcile` is
   * false: then the caches fill and follow the cluster, and nothing acts on them).
   */
  start(signal?: AbortSignal, opts?: { readonly reconcile?: boolean }): Promise<void>;
  /** Stops the workers (in-flight reconciles get `deadlineMs`), then the informers. */
  stop(deadlineMs?: number): Promise<void>;
}

/** Workers per configured worker for the controllers a waiting user is behind (see the work queues below). */
const USER_PATH_WORKER_FACTOR = 8;
const USER_PATH: ReadonlySet<ControllerName> = new Set(["claim", "codeInterpreter", "agentSession"]);

const CONTROLLERS: readonly ControllerName[] = [
  "sandbox",
  "pool",
  "claim",
  "codeInterpreter",
  "agentSession",
  "runtime",
];

export function createControllerSet(opts: ControllerSetOptions): ControllerSet {
  const clock = opts.clock ?? systemClock;
  const random = opts.random ?? Math.random;
  const { client, log } = opts;
  const api: Clients = {
    pods: client.resource(PODS),
    sandboxes: client.resource(SANDBOXES),
    pools: client.resource(SANDBOX_POOLS),
    claims: client.resource(SANDBOX_CLAIMS),
    codeInterpreters: client.resource(CODE_INTERPRETERS),
    agentSessions: client.resource(AGENT_SESSIONS),
    runtimes: client.resource(AGENT_RUNTIMES),
  };
  const common = {
    namespaces: opts.namespaces,
    resyncMs: opts.resyncMs ?? 600_000,
    onError: (err: unknown, phase: string) => log.warn("informer error", { phase, error: String(err) }),
  };
  const informers = {
    pods: createNamespacedInformers<Pod>(api.pods, {
      ...common,
      labelSelector: `${LABELS.managedBy}=${MANAGED_BY}`,
      indexers: { controller: byController },
    }),
    sandboxes: createNamespacedInformers(api.sandboxes, { ...common, indexers: sandboxIndexers }),
    pools: createNamespacedInformers(api.pools, { ...common, indexers: poolIndexers }),
    claims: createNamespacedInformers(api.claims, { ...common, indexers: claimIndexers }),
    codeInterpreters: createNamespacedInformers(api.codeInterpreters, {
      ...common,
      indexers: codeInterpreterIndexers,
    }),
    agentSessions: createNamespacedInformers(api.agentSessions, {
      ...common,
      indexers: agentSessionIndexers,
    }),
    runtimes: createNamespacedInformers(api.runtimes, common),
  };
  const caches: Caches = informers;
  let kick: ControllerContext["kick"] = () => {};
  const context: ControllerContext = {
    caches,
    api,
    settings: opts.settings,
    clock,
    random,
    expectations: createExpectations(clock),
    memo: createWriteMemo(clock),
    bindings: createClaimBindings(clock),
    adopting: createAdoptionsInFlight(),
    outdated: createOutdatedVersions(clock),
    events: createEventRecorder({
      client,
      instance: opts.identity,
      now: () => clock.now(),
      monotonic: () => clock.monotonic(),
      random,
      onError: (err) => log.debug("event not recorded", { error: String(err) }),
    }),
    log,
    kick: (controller, key) => kick(controller, key),
  };
  const reconcilers: Record<ControllerName, Reconciler> = {
    sandbox: createSandboxReconciler(context),
    pool: createSandboxPoolReconciler(context),
    claim: createSandboxClaimReconciler(context),
    codeInterpreter: createCodeInterpreterReconciler(context),
    agentSession: createAgentSessionReconciler(context),
    runtime: createAgentRuntimeReconciler(context),
  };
  if (opts.metrics) exportRateLimitStats(opts.metrics, client);
  const reconcileTotal = opts.metrics?.counter(
    "agentland_controller_reconcile_total",
    "Reconciles by controller and result.",
  );
  const reconcileSeconds = opts.metrics?.histogram(
    "agentland_controller_reconcile_seconds",
    "Reconcile duration.",
  );
  const queues = Object.fromEntries(
    CONTROLLERS.map((name) => [
      name,
      createWorkQueue<string>({
        // Session and claim reconciles are short waits on the apiserver, and every waiting user is behind
        // them: in a burst their concurrency (not the apiserver) bounds how fast sessions get a sandbox
        // (200 sessions at 8 workers queued ~14 s before their claims were even created; at 32, with
        // writes taking 1-2 s on a loaded machine, the session queue needed ~40 s of worker time for a
        // 200-session burst). A worker is a pending promise, not a thread; 64 of them match the kube
        // client's 64 requests on the wire, which queue the rest in arrival order.
        workers: USER_PATH.has(name) ? opts.workers * USER_PATH_WORKER_FACTOR : opts.workers,
        clock,
        backoff: { baseMs: 20, maxMs: 60_000 },
        handler: async (key, signal) => {
          const started = clock.monotonic();
          try {
            const result = await reconcilers[name].reconcile(key, signal);
            reconcileTotal?.inc({ controller: name, result: "success" });
            return result;
          } catch (err) {
            reconcileTotal?.inc({ controller: name, result: "error" });
            throw err;
          } finally {
            reconcileSeconds?.observe((clock.monotonic() - started) / 1000, { controller: name });
          }
        },
        onError: (key, err, failures) => {
          // A lost optimistic-concurrency race is routine: the retry reads the newer version.
          const level = isConflict(err) ? "debug" : failures > 3 ? "warn" : "info";
          log[level]("reconcile failed; retrying", { controller: name, key, failures, error: String(err) });
        },
      }),
    ]),
  ) as Record<ControllerName, WorkQueue<string>>;
  kick = (controller, key) => queues[controller].add(key);
  routeEvents(informers as never, caches, kick);
  const all = Object.values(informers) as NamespacedInformers<unknown>[];

  return {
    context,
    reconcilers,
    async start(signal, { reconcile = true } = {}) {
      for (const i of all) i.start();
      await Promise.all(all.map((i) => i.waitForSync(signal)));
      if (!reconcile) return;
      for (const q of Object.values(queues)) q.start();
      log.info("controllers started", { namespaces: opts.namespaces });
    },
    async stop(deadlineMs = 5_000) {
      await Promise.all(Object.values(queues).map((q) => q.shutdown(deadlineMs)));
      await Promise.all(all.map((i) => i.stop()));
      await context.events.flush();
    },
  };
}

const exported = new WeakSet<MetricsRegistry>();

/**
 * The kube client's own limit (qps/burst) as metrics, once per registry: requests queued on this side never
 * reach the apiserver's metrics, so a burst slowed here would otherwise look like a slow apiserver.
 */
function exportRateLimitStats(metrics: MetricsRegistry, client: KubeClient): void {
  if (exported.has(metrics)) return;
  exported.add(metrics);
  metrics.gauge(
    "agentland_kube_client_requests",
    "Requests this process sent to the apiserver since it started, by whether the client-side limit delayed them.",
    () => {
      const { taken, delayed } = client.rateLimitStats();
      return [
        [{ delayed: "false" }, taken - delayed],
        [{ delayed: "true" }, delayed],
      ];
    },
  );
  metrics.gauge(
    "agentland_kube_client_rate_limit_wait_seconds",
    "Time requests waited for the client-side limit (kube-qps, kube-burst) since the process started.",
    () => [[{}, client.rateLimitStats().delayedMs / 1000]],
  );
  metrics.gauge(
    "agentland_kube_client_wire_wait_seconds",
    "Time requests waited for a free connection slot (at most 64 requests on the wire) since the process started.",
    () => [[{}, (client.rateLimitStats().wireWaitedMs ?? 0) / 1000]],
  );
}
