/**
 * Which reconcilers an informer event wakes. Controllers react to the state of the world, so routing only
 * has to be generous enough: every object whose desired state may depend on the changed one is queued, and
 * the queue's deduplication absorbs the rest. Both the old and the new version of an object are routed, so
 * a sandbox moving from its pool to a claim wakes the pool (to refill) as well as the claim.
 */
import { AGENT_RUNTIME } from "../../api/agent-runtime";
import { AGENT_SESSION } from "../../api/agent-session";
import { CODE_INTERPRETER } from "../../api/code-interpreter";
import { SANDBOX } from "../../api/sandbox";
import { SANDBOX_CLAIM } from "../../api/sandbox-claim";
import { SANDBOX_POOL } from "../../api/sandbox-pool";
import type { InformerHandlers } from "../../kube/informer";
import type { KubeObject } from "../../kube/kube-object";
import type { Caches, ControllerName } from "../controllers/controller-context";

export type { ControllerName };

import { INDEX } from "../controllers/object-cache";
import { controllerOf } from "../controllers/owner-refs";
import { reservedSession } from "../controllers/reservation";
import { availableKeys } from "./indexers";

export type Enqueue = (controller: ControllerName, key: string) => void;

const KIND_TO_CONTROLLER: Readonly<Record<string, ControllerName>> = {
  [SANDBOX.kind]: "sandbox",
  [SANDBOX_POOL.kind]: "pool",
  [SANDBOX_CLAIM.kind]: "claim",
  [CODE_INTERPRETER.kind]: "codeInterpreter",
  [AGENT_SESSION.kind]: "agentSession",
  [AGENT_RUNTIME.kind]: "runtime",
};

const keyOf = (o: KubeObject) => `${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;

/** Turns "something happened to obj" (both versions for updates) into calls to `route`. */
function both<T extends KubeObject>(route: (obj: T) => void): InformerHandlers<T> {
  return {
    onAdd: route,
    onUpdate: (old, obj) => {
      if (old !== obj) route(old);
      route(obj);
    },
    onDelete: route,
  };
}

export interface RoutingTargets {
  readonly pods: { addHandlers(h: InformerHandlers<KubeObject>): void };
  readonly sandboxes: { addHandlers(h: InformerHandlers<KubeObject>): void };
  readonly pools: { addHandlers(h: InformerHandlers<KubeObject>): void };
  readonly claims: { addHandlers(h: InformerHandlers<KubeObject>): void };
  readonly codeInterpreters: { addHandlers(h: InformerHandlers<KubeObject>): void };
  readonly agentSessions: { addHandlers(h: InformerHandlers<KubeObject>): void };
  readonly runtimes: { addHandlers(h: InformerHandlers<KubeObject>): void };
}

export function routeEvents(informers: RoutingTargets, caches: Caches, enqueue: Enqueue): void {
  /** The owner's controller, and for a claim its session too: a session mirrors its claim's sandbox. */
  const toOwner = (o: KubeObject) => {
    const owner = controllerOf(o as never);
    const controller = owner && KIND_TO_CONTROLLER[owner.kind];
    if (!owner || !controller) return;
    const key = `${o.metadata?.namespace ?? ""}/${owner.name}`;
    enqueue(controller, key);
    if (controller === "claim") {
      const claim = caches.claims.get(o.metadata?.namespace ?? "", owner.name);
      if (claim) toOwner(claim);
    }
  };
  /** A sandbox a session pre-adopted for its claim (named like the session) concerns that claim too. */
  const toSessionClaim = (s: KubeObject) => {
    const owner = controllerOf(s as never);
    if (owner?.kind === CODE_INTERPRETER.kind || owner?.kind === AGENT_SESSION.kind)
      enqueue("claim", `${s.metadata?.namespace ?? ""}/${owner.name}`);
    // Reserved by name for a session (reservation.ts): that session, and its claim, take it.
    const reserved = reservedSession(s as never);
    const controller = reserved && KIND_TO_CONTROLLER[reserved.kind];
    if (reserved && controller) {
      enqueue(controller, `${s.metadata?.namespace ?? ""}/${reserved.name}`);
      enqueue("claim", `${s.metadata?.namespace ?? ""}/${reserved.name}`);
    }
  };
  const wakeUnboundClaims = (namespace: string) => {
    for (const claim of caches.claims.byIndex(INDEX.unbound, namespace)) enqueue("claim", keyOf(claim));
  };

  informers.pods.addHandlers(both(toOwner));
  informers.sandboxes.addHandlers(
    both((s) => {
      enqueue("sandbox", keyOf(s));
      toOwner(s);
      toSessionClaim(s);
      // A warm sandbox just became available: claims waiting on a pool (PoolRequired) may take it.
      if (availableKeys(s as never).length > 0) wakeUnboundClaims(s.metadata?.namespace ?? "");
    }),
  );
  informers.pools.addHandlers(
    both((p) => {
      enqueue("pool", keyOf(p));
      toOwner(p);
      wakeUnboundClaims(p.metadata?.namespace ?? "");
    }),
  );
  informers.claims.addHandlers(
    both((c) => {
      enqueue("claim", keyOf(c));
      toOwner(c);
    }),
  );
  informers.codeInterpreters.addHandlers(both((s) => enqueue("codeInterpreter", keyOf(s))));
  informers.agentSessions.addHandlers(both((s) => enqueue("agentSession", keyOf(s))));
  informers.runtimes.addHandlers(
    both((r) => {
      const key = keyOf(r);
      enqueue("runtime", key);
      for (const s of caches.agentSessions.byIndex(INDEX.runtime, key)) enqueue("agentSession", keyOf(s));
      for (const p of caches.pools.byIndex(INDEX.runtime, key)) enqueue("pool", keyOf(p));
    }),
  );
}
