/**
 * Deadline-driven garbage collection of sessions (leader only). Every session change queues its key;
 * handling a key either deletes the session (with a uid precondition, and an Event saying why) or
 * requeues it for the exact moment its deadline falls. All inputs live in the CRs, so a new leader
 * rebuilds every deadline from its first list.
 */

import type { KubeClient } from "../../kube/kube-client";
import { isNotFound } from "../../kube/kube-error";
import { EVENTS } from "../../kube/resources";
import { createWorkQueue, type WorkQueue } from "../../kube/work-queue";
import type { Counter } from "../../metrics/metrics-registry";
import type { SessionCache } from "../sessions/session-cache";
import { kindOfSessionId, type SessionKindInfo, type SessionObject } from "../sessions/session-kinds";
import { type GcDecision, type GcSettings, gcDeadline } from "./gc-policy";

export interface SessionGcDeps {
  readonly client: KubeClient;
  readonly cache: SessionCache;
  readonly settings: GcSettings;
  readonly now: () => number;
  readonly deletions?: Counter;
  readonly log: (msg: string, fields?: Record<string, unknown>) => void;
}

export interface SessionGc {
  stop(): Promise<void>;
}

const MESSAGES: Record<GcDecision["reason"], string> = {
  IdleTimeout: "idle for longer than spec.sessionTimeout",
  MaxSessionDuration: "reached spec.maxSessionDuration",
  Failed: "failed and its retention has passed",
  NeverReady: "never became Ready",
};

export function startSessionGc(deps: SessionGcDeps): SessionGc {
  const queue: WorkQueue<string> = createWorkQueue<string>({
    workers: 4,
    handler: async (key, signal) => {
      const [namespace = "", name = ""] = key.split("/");
      const kind = kindOfSessionId(name);
      const obj = kind && deps.cache.get(kind, namespace, name);
      if (!kind || !obj || obj.metadata.deletionTimestamp) return;
      const decision = gcDeadline(obj, deps.settings);
      const wait = decision.at - deps.now();
      if (wait > 0) return { requeueAfterMs: wait };
      await collect(deps, kind, obj, decision, signal);
      return;
    },
    onError: (key, err) => deps.log("gc failed; retrying", { key, err: String(err) }),
  });
  const off = deps.cache.onChange((_kind, obj) =>
    queue.add(`${obj.metadata.namespace}/${obj.metadata.name}`),
  );
  queue.start();
  return {
    async stop() {
      off();
      await queue.shutdown(5_000);
    },
  };
}

async function collect(
  deps: SessionGcDeps,
  kind: SessionKindInfo,
  obj: SessionObject,
  decision: GcDecision,
  signal: AbortSignal,
): Promise<void> {
  const { name = "", namespace = "", uid } = obj.metadata;
  try {
    await deps.client.resource(kind.resource).delete(name, {
      namespace,
      propagationPolicy: "Background",
      ...(uid ? { preconditions: { uid } } : {}),
      signal,
    });
  } catch (err) {
    if (isNotFound(err)) return;
    throw err;
  }
  deps.cache.bury(kind, obj); // this replica's RPC reads stop showing it at once, not at the watch echo
  deps.deletions?.inc({ reason: decision.reason });
  deps.log("session garbage-collected", { namespace, name, reason: decision.reason });
  await recordEvent(deps, obj, decision, signal).catch((err: unknown) =>
    deps.log("could not record the GC event", { name, err: String(err) }),
  );
}

async function recordEvent(
  deps: SessionGcDeps,
  obj: SessionObject,
  decision: GcDecision,
  signal: AbortSignal,
) {
  const now = new Date(deps.now()).toISOString();
  const { name = "", namespace = "", uid } = obj.metadata;
  await deps.client.resource(EVENTS).create(
    {
      metadata: { generateName: `${name}.`, namespace },
      involvedObject: {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        name,
        namespace,
        ...(uid ? { uid } : {}),
      },
      reason: decision.reason,
      message: `session deleted: ${MESSAGES[decision.reason]}`,
      type: "Normal",
      source: { component: "agentland-agentcore" },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    },
    { namespace, signal },
  );
}
