/**
 * Records Kubernetes Events about objects (`kubectl describe` shows them). Repeats of the same event
 * on the same object within 10 minutes bump `count` and `lastTimestamp` of the existing Event instead
 * of creating new ones, as client-go's recorder does, so a hot reconcile loop cannot flood etcd.
 * Recording never throws: an Event is a best-effort signal, not part of reconciliation.
 */
import type { CoreV1Event } from "@kubernetes/client-node";
import { type Clock, systemClock } from "./clock";
import type { KubeClient } from "./kube-client";
import { isNotFound } from "./kube-error";
import type { KubeObject, Wire } from "./kube-object";
import { EVENTS } from "./resources";

export interface EventInfo {
  readonly type: "Normal" | "Warning";
  /** UpperCamelCase, machine-readable: `SandboxReady`, `PodFailed`. */
  readonly reason: string;
  readonly message: string;
  readonly action?: string;
}

export interface EventRecorder {
  record(obj: KubeObject, event: EventInfo, signal?: AbortSignal): Promise<void>;
}

export interface EventRecorderOptions {
  /** The reporting component, e.g. `agentland-agentcore`. */
  readonly component: string;
  /** This replica, e.g. the pod name. */
  readonly instance?: string;
  readonly clock?: Clock;
  readonly onError?: (err: unknown) => void;
}

const AGGREGATE_WINDOW_MS = 10 * 60_000;
const MAX_REMEMBERED = 4096;

export function createEventRecorder(client: KubeClient, opts: EventRecorderOptions): EventRecorder {
  const clock = opts.clock ?? systemClock;
  const events = client.resource(EVENTS);
  const seen = new Map<string, { name: string; namespace: string; count: number; first: number }>();
  let sequence = 0;

  async function create(obj: KubeObject, event: EventInfo, key: string, signal?: AbortSignal): Promise<void> {
    const now = clock.now();
    const meta = obj.metadata ?? {};
    const namespace = meta.namespace || "default";
    const name = `${meta.name}.${(now * 1e6 + (sequence++ % 1e6)).toString(16)}`;
    const stamp = new Date(now).toISOString();
    const body: Wire<CoreV1Event> = {
      metadata: { name, namespace },
      involvedObject: {
        ...(obj.apiVersion ? { apiVersion: obj.apiVersion } : {}),
        ...(obj.kind ? { kind: obj.kind } : {}),
        ...(meta.name ? { name: meta.name } : {}),
        ...(meta.namespace ? { namespace: meta.namespace } : {}),
        ...(meta.uid ? { uid: meta.uid } : {}),
        ...(meta.resourceVersion ? { resourceVersion: meta.resourceVersion } : {}),
      },
      type: event.type,
      reason: event.reason,
      message: event.message,
      ...(event.action ? { action: event.action } : {}),
      source: { component: opts.component },
      reportingComponent: opts.component,
      reportingInstance: opts.instance ?? "",
      firstTimestamp: stamp,
      lastTimestamp: stamp,
      count: 1,
    };
    await events.create(body, { namespace, ...(signal ? { signal } : {}) });
    if (seen.size >= MAX_REMEMBERED) seen.delete(seen.keys().next().value as string);
    seen.set(key, { name, namespace, count: 1, first: now });
  }

  return {
    async record(obj, event, signal) {
      const meta = obj.metadata ?? {};
      const key = [
        meta.uid ?? `${meta.namespace}/${meta.name}`,
        event.type,
        event.reason,
        event.message,
      ].join("\0");
      try {
        const prior = seen.get(key);
        if (prior && clock.now() - prior.first < AGGREGATE_WINDOW_MS) {
          try {
            prior.count++;
            await events.patch(prior.name, {
              namespace: prior.namespace,
              type: "merge",
              patch: { count: prior.count, lastTimestamp: new Date(clock.now()).toISOString() },
              ...(signal ? { signal } : {}),
            });
            return;
          } catch (err) {
            if (!isNotFound(err)) throw err;
          }
        }
        await create(obj, event, key, signal);
      } catch (err) {
        opts.onError?.(err);
      }
    },
  };
}
