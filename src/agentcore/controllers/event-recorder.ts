/**
 * Kubernetes Events on meaningful transitions (a sandbox failed, a claim bound, a session became Ready), so
 * `kubectl describe` tells the story. Recording is best effort and never blocks or fails a reconcile: events
 * are sent in the background and `flush()` sends what is waiting and waits for those in flight when the
 * manager stops. They are the first thing to give way under load: a token bucket (default 10/s, burst 50)
 * and a cap on events waiting or in flight (default 8) drop the excess, as client-go's broadcaster drops
 * under pressure. The cap makes the budget follow the apiserver: at 10 ms a request it admits dozens a
 * second, at a second a request (an overloaded machine) a handful — in a burst of 200 claims the
 * apiserver's capacity goes to binding them, not to 200 "Bound" events. And they
 * wait a moment (default 1 s) before they are sent, so the event a reconcile records never competes with
 * the status writes that same session still needs (claim, session, its first run — a second on a busy
 * machine): a person reading `kubectl describe` cannot tell.
 */
import type { CoreV1Event } from "@kubernetes/client-node";
import type { KubeClient } from "../../kube/kube-client";
import type { Wire } from "../../kube/kube-object";
import { EVENTS } from "../../kube/resources";
import { rfc3339 } from "../render/conditions";

export type EventType = "Normal" | "Warning";

interface Involved {
  readonly apiVersion?: string | undefined;
  readonly kind?: string | undefined;
  readonly metadata?:
    | {
        readonly name?: string | undefined;
        readonly namespace?: string | undefined;
        readonly uid?: string | undefined;
        readonly resourceVersion?: string | undefined;
      }
    | undefined;
}

export interface EventRecorder {
  record(obj: Involved, type: EventType, reason: string, message: string): void;
  flush(): Promise<void>;
}

export interface EventRecorderOptions {
  readonly client: KubeClient;
  /** `reportingInstance`: which replica wrote the event. */
  readonly instance: string;
  readonly now: () => number;
  readonly random: () => number;
  readonly maxInFlight?: number;
  /** How long an event waits before it is sent (default 1 s). */
  readonly delayMs?: number;
  /** Sustained events per second, and how many may go at once above that. */
  readonly qps?: number;
  readonly burst?: number;
  /** Monotonic milliseconds, for the token bucket. */
  readonly monotonic?: () => number;
  readonly onError?: (err: unknown) => void;
}

export const REPORTING_COMPONENT = "agentland-agentcore";

export function createEventRecorder(opts: EventRecorderOptions): EventRecorder {
  const events = opts.client.resource(EVENTS);
  const inFlight = new Set<Promise<void>>();
  const waiting: Wire<CoreV1Event>[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const max = opts.maxInFlight ?? 8;
  const delayMs = opts.delayMs ?? 1_000;
  const qps = opts.qps ?? 10;
  const burst = opts.burst ?? 50;
  const monotonic = opts.monotonic ?? (() => performance.now());
  let tokens = burst;
  let last = monotonic();
  const admit = (): boolean => {
    const now = monotonic();
    tokens = Math.min(burst, tokens + ((now - last) / 1000) * qps);
    last = now;
    if (tokens < 1 || inFlight.size + waiting.length >= max) return false;
    tokens -= 1;
    return true;
  };
  const suffix = () => Math.floor(opts.random() * 2 ** 48).toString(16);
  return {
    record(obj, type, reason, message) {
      const meta = obj.metadata;
      if (!meta?.name || !meta.namespace || !admit()) return;
      const now = opts.now();
      const event: Wire<CoreV1Event> = {
        metadata: { name: `${meta.name}.${now.toString(16)}${suffix()}`, namespace: meta.namespace },
        involvedObject: {
          apiVersion: obj.apiVersion,
          kind: obj.kind,
          name: meta.name,
          namespace: meta.namespace,
          uid: meta.uid,
          resourceVersion: meta.resourceVersion,
        },
        type,
        reason,
        message: message.slice(0, 1024),
        source: { component: REPORTING_COMPONENT },
        reportingComponent: REPORTING_COMPONENT,
        reportingInstance: opts.instance.slice(0, 128),
        firstTimestamp: rfc3339(now),
        lastTimestamp: rfc3339(now),
        count: 1,
      };
      waiting.push(event);
      timer ??= setTimeout(sendWaiting, delayMs);
    },
    async flush() {
      sendWaiting();
      await Promise.all([...inFlight]);
    },
  };

  function sendWaiting(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    for (const event of waiting.splice(0)) {
      const sent: Promise<void> = events
        .create(event, { timeoutMs: 10_000 })
        .then(
          () => {},
          (err: unknown) => opts.onError?.(err),
        )
        .finally(() => inFlight.delete(sent));
      inFlight.add(sent);
    }
  }
}
