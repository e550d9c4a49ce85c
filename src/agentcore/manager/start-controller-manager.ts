/**
 * The controller manager: controllers run only on the replica holding the agentcore Lease. On election a
 * fresh controller set lists the world and starts reconciling; when leadership ends (lost renewal, or
 * `stop()`) the set's workers stop before the Lease can be taken by anyone else — the elector gives up
 * leading after `renew-deadline`, strictly before the Lease expires for the others at `lease-duration`.
 * A standby holds no caches; it campaigns, and takes over within one lease duration of the leader's death.
 */
import { hostname } from "node:os";
import { SYSTEM_NAMESPACE } from "../../api/install-names";
import type { AgentcoreSettings } from "../../config/modes";
import type { Clock } from "../../kube/clock";
import type { KubeClient } from "../../kube/kube-client";
import { createLeaderElector, leaderIdentity } from "../../kube/leader-election";
import type { Logger } from "../../log/logger";
import type { MetricsRegistry } from "../../metrics/metrics-registry";
import type { ControllerSettings } from "../controllers/controller-context";
import { type ControllerSet, createControllerSet } from "./controller-set";

/** The agentcore settings the controllers read. */
export type ControllerManagerSettings = Pick<
  AgentcoreSettings,
  | "allowed-namespaces"
  | "jwks-configmap"
  | "code-interpreter-image"
  | "code-interpreter-pool"
  | "workers"
  | "leader-election-namespace"
  | "leader-election-lease"
  | "lease-duration"
  | "renew-deadline"
  | "retry-period"
  | "pod-name"
  | "pod-namespace"
>;

export interface ControllerManagerDeps {
  readonly client: KubeClient;
  readonly settings: ControllerManagerSettings;
  readonly log: Logger;
  readonly metrics?: MetricsRegistry;
  readonly clock?: Clock;
  /** Lease holder identity; default: pod name (or host name) plus a random suffix. */
  readonly identity?: string;
}

export interface ControllerManager {
  isLeader(): boolean;
  /** Stops the controllers, then releases the Lease so a standby takes over at once. */
  stop(): Promise<void>;
}

export function controllerSettings(settings: ControllerManagerSettings): ControllerSettings {
  return {
    jwksConfigMap: settings["jwks-configmap"],
    codeInterpreterImage: settings["code-interpreter-image"],
    codeInterpreterPool: settings["code-interpreter-pool"],
  };
}

/**
 * Runs the controllers for one leadership term: starts at once, stops when `leadership` aborts. For callers
 * that run their own elector (agentcore's, shared with GC). Resolves to the running set.
 */
export function runControllersWhileLeading(
  deps: ControllerManagerDeps & { readonly identity: string },
  leadership: AbortSignal,
): { readonly set: ControllerSet; readonly done: Promise<void> } {
  const set = createControllerSet({
    client: deps.client,
    namespaces: deps.settings["allowed-namespaces"],
    settings: controllerSettings(deps.settings),
    workers: deps.settings.workers,
    identity: deps.identity,
    log: deps.log,
    ...(deps.clock ? { clock: deps.clock } : {}),
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
  });
  const done = (async () => {
    try {
      await set.start(leadership);
    } catch (err) {
      if (!leadership.aborted) deps.log.error("controllers failed to start", { error: String(err) });
    }
    if (!leadership.aborted)
      await new Promise<void>((resolve) =>
        leadership.addEventListener("abort", () => resolve(), { once: true }),
      );
    // A deposed leader must stop writing quickly: in-flight reconciles get a short deadline.
    await set.stop(Math.min(2_000, deps.settings["renew-deadline"]));
    deps.log.info("controllers stopped");
  })();
  return { set, done };
}

export function startControllerManager(deps: ControllerManagerDeps): ControllerManager {
  const identity = deps.identity ?? leaderIdentity(deps.settings["pod-name"] ?? hostname());
  let term: { readonly stop: AbortController; readonly done: Promise<void> } | undefined;
  const elector = createLeaderElector({
    client: deps.client,
    namespace:
      deps.settings["leader-election-namespace"] ?? deps.settings["pod-namespace"] ?? SYSTEM_NAMESPACE,
    name: deps.settings["leader-election-lease"],
    identity,
    leaseDurationMs: deps.settings["lease-duration"],
    renewDeadlineMs: deps.settings["renew-deadline"],
    retryPeriodMs: deps.settings["retry-period"],
    ...(deps.clock ? { clock: deps.clock } : {}),
    onStartedLeading: (signal) => {
      deps.log.info("leading: starting controllers", { identity });
      const stop = new AbortController();
      signal.addEventListener("abort", () => stop.abort(signal.reason), { once: true });
      // Re-elected right after losing: the previous term's workers must be gone before new ones start.
      const previous = term?.done;
      const done = (async () => {
        await previous;
        if (!stop.signal.aborted) await runControllersWhileLeading({ ...deps, identity }, stop.signal).done;
      })();
      term = { stop, done };
    },
    onError: (err) => deps.log.warn("leader election", { error: String(err) }),
  });
  elector.start();
  return {
    isLeader: () => elector.isLeader(),
    async stop() {
      term?.stop.abort(new Error("manager stopped"));
      await term?.done;
      await elector.stop();
    },
  };
}
