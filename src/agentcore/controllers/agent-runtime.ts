/**
 * AgentRuntime: validates the runtime and reports `Accepted`, the template hash and its warm pool.
 *
 * With `spec.warmPool`, the runtime controls a SandboxPool of the same name whose template is the
 * runtime's (`runtimeRef`, so a template change rolls out through the pool); `warmPool.replicas` is the
 * source of truth for its size. Removing `warmPool` deletes that pool (its unclaimed sandboxes go with it;
 * claimed ones belong to their claims). A pool of that name the runtime does not control is left alone and
 * reported.
 */

import { AGENT_RUNTIME, type AgentRuntime, agentRuntimeKind } from "../../api/agent-runtime";
import type { Condition } from "../../api/condition";
import { LABELS, MANAGED_BY } from "../../api/reserved-keys";
import { SANDBOX_POOL, type SandboxPool } from "../../api/sandbox-pool";
import { isAlreadyExists, isConflict, isNotFound } from "../../kube/kube-error";
import { rfc3339, setCondition } from "../render/conditions";
import {
  type ControllerContext,
  memoKey,
  type ReconcileResult,
  type Reconciler,
  splitNamespaced,
} from "./controller-context";
import { controllerRef, isControlledBy } from "./owner-refs";
import { issuesText, parseCached } from "./parse-cached";
import { cachedTemplateHash } from "./pool-template";
import { patchStatusIfChanged } from "./status-patch";

type AcceptedCondition = Omit<Condition, "type" | "lastTransitionTime">;

export function createAgentRuntimeReconciler(ctx: ControllerContext): Reconciler {
  const poolKey = (ns: string, name: string) => memoKey(SANDBOX_POOL.kind, ns, name);

  /** Converges the warm pool; returns a problem to report, if any. */
  async function ensurePool(runtime: AgentRuntime, signal: AbortSignal): Promise<string | undefined> {
    const ns = runtime.metadata.namespace ?? "";
    const name = runtime.metadata.name ?? "";
    const pool = ctx.memo.latest(poolKey(ns, name), ctx.caches.pools.get(ns, name));
    const want = runtime.spec.warmPool;
    if (pool && !isControlledBy(pool, runtime))
      return want ? `a SandboxPool named ${name} exists and is not this runtime's` : undefined;
    if (!want) {
      if (pool) await deletePool(pool, signal);
      return undefined;
    }
    if (!pool) {
      const desired: SandboxPool = {
        apiVersion: SANDBOX_POOL.apiVersion,
        kind: SANDBOX_POOL.kind,
        metadata: {
          name,
          namespace: ns,
          labels: { [LABELS.managedBy]: MANAGED_BY, [LABELS.runtime]: name },
          ownerReferences: [controllerRef(AGENT_RUNTIME.kind, runtime)],
        },
        spec: { replicas: want.replicas, runtimeRef: { name } },
      };
      try {
        ctx.memo.remember(poolKey(ns, name), undefined, await ctx.api.pools.create(desired, { signal }));
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
      }
      return undefined;
    }
    if (pool.spec.replicas !== want.replicas) {
      const updated = await ctx.api.pools.patch(name, {
        type: "merge",
        patch: { spec: { replicas: want.replicas } },
        namespace: ns,
        signal,
      });
      ctx.memo.remember(poolKey(ns, name), pool, updated);
    }
    return undefined;
  }

  async function deletePool(pool: SandboxPool, signal: AbortSignal): Promise<void> {
    const { namespace = "", name = "", uid } = pool.metadata;
    try {
      await ctx.api.pools.delete(name, {
        namespace,
        propagationPolicy: "Background",
        preconditions: uid ? { uid } : {},
        signal,
      });
      ctx.memo.remember(poolKey(namespace, name), pool, undefined);
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
  }

  async function reconcile(key: string, signal: AbortSignal): Promise<ReconcileResult> {
    const { namespace, name } = splitNamespaced(key);
    const raw = ctx.memo.latest(
      memoKey(AGENT_RUNTIME.kind, namespace, name),
      ctx.caches.runtimes.get(namespace, name),
    );
    if (!raw || raw.metadata.deletionTimestamp) return undefined;
    const parsed = parseCached(agentRuntimeKind, raw);
    let accepted: AcceptedCondition;
    let extra: Record<string, unknown> = {};
    if (!parsed.success) {
      accepted = { status: "False", reason: "InvalidTemplate", message: issuesText(parsed) };
    } else {
      const runtime = parsed.value;
      const problem = await ensurePool(runtime, signal);
      accepted = { status: "True", reason: "Accepted", message: problem ?? "the runtime is valid" };
      extra = {
        templateHash: cachedTemplateHash(runtime.spec.sandboxTemplate),
        ...(runtime.spec.warmPool && !problem ? { poolName: name } : {}),
      };
    }
    const generation = raw.metadata.generation;
    const status = {
      conditions: setCondition(
        raw.status?.conditions,
        { type: "Accepted", ...accepted },
        rfc3339(ctx.clock.now()),
        generation,
      ),
      ...(generation === undefined ? {} : { observedGeneration: generation }),
      ...extra,
    };
    const wasAccepted = raw.status?.conditions?.find((c) => c.type === "Accepted")?.status;
    const updated = await patchStatusIfChanged(ctx.api.runtimes, raw, status, { signal });
    if (updated) {
      ctx.memo.remember(memoKey(AGENT_RUNTIME.kind, namespace, name), raw, updated);
      if (accepted.status === "False" && wasAccepted !== "False")
        ctx.events.record(raw, "Warning", accepted.reason, accepted.message);
    }
    return undefined;
  }

  return { reconcile };
}
