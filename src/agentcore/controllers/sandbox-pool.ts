/**
 * SandboxPool: keeps `spec.replicas` unclaimed Sandboxes of its template Ready or becoming Ready.
 *
 * - Members are the Sandboxes the pool controls. Adoption moves a sandbox's controller reference to its
 *   claim, so a claimed sandbox stops being a member in the same write that claims it: the pool refills at
 *   once, and deleting the pool (owner-reference garbage collection) takes only unclaimed sandboxes.
 * - Creations and deletions are tracked as expectations, so a reconcile that runs before the cache shows
 *   them never over-creates; deletes carry uid + resourceVersion preconditions, so a pool never deletes a
 *   sandbox a claim adopted a moment ago.
 * - A template change rolls out by surge (see pool-plan.ts).
 */
import type { Condition } from "../../api/condition";
import { LABELS, MANAGED_BY } from "../../api/reserved-keys";
import { SANDBOX, type Sandbox, sandboxKind } from "../../api/sandbox";
import { SANDBOX_POOL, type SandboxPool, sandboxPoolKind } from "../../api/sandbox-pool";
import { isConflict, isNotFound } from "../../kube/kube-error";
import { rfc3339, setCondition } from "../render/conditions";
import {
  type ControllerContext,
  memoKey,
  type ReconcileResult,
  type Reconciler,
  splitNamespaced,
} from "./controller-context";
import { INDEX } from "./object-cache";
import { controllerRef, isControlledBy } from "./owner-refs";
import { parseCached, parsedOrUndefined } from "./parse-cached";
import { type PoolMember, planPool } from "./pool-plan";
import { type ResolvedTemplate, resolvePoolTemplate } from "./pool-template";
import { createRefillDeferral } from "./refill-deferral";
import { patchStatusIfChanged } from "./status-patch";

/** Initial hold of a Failed member before it is replaced; doubles per consecutive failure, up to 5 min. */
const FAILED_HOLD_MS = 2_000;
const FAILED_HOLD_MAX_MS = 300_000;
/** Most sandboxes one reconcile creates, and the pause before the next chunk of a larger refill. */
const REFILL_CHUNK = 20;
const REFILL_CHUNK_PAUSE_MS = 100;
const NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

export function poolSelector(poolName: string): string {
  return `${LABELS.pool}=${poolName},!${LABELS.claim}`;
}

export function createSandboxPoolReconciler(ctx: ControllerContext): Reconciler {
  const failureStreak = new Map<string, number>();
  const deferral = createRefillDeferral(ctx);
  const sandboxKey = (ns: string, name: string) => memoKey(SANDBOX.kind, ns, name);

  function members(pool: SandboxPool, key: string): Sandbox[] {
    const ns = pool.metadata.namespace ?? "";
    const deleting = new Set(
      ctx.expectations.pendingDeletes(key, (n) => ctx.caches.sandboxes.get(ns, n) !== undefined),
    );
    const out: Sandbox[] = [];
    for (const cached of ctx.caches.sandboxes.byIndex(INDEX.controller, pool.metadata.uid ?? "")) {
      const name = cached.metadata.name ?? "";
      const sbx = parsedOrUndefined(sandboxKind, ctx.memo.latest(sandboxKey(ns, name), cached) ?? {});
      if (!sbx || deleting.has(name) || sbx.metadata.deletionTimestamp) continue;
      if (isControlledBy(sbx, pool) && !sbx.spec.claimRef) out.push(sbx);
    }
    return out;
  }

  function toMember(sbx: Sandbox, hash: string): PoolMember {
    const ready = sbx.status?.conditions?.find((c) => c.type === "Ready");
    const phase = sbx.status?.phase;
    return {
      name: sbx.metadata.name ?? "",
      state: phase === "Ready" ? "Ready" : phase === "Failed" ? "Failed" : "Pending",
      current: sbx.spec.templateHash === hash,
      createdAt: Date.parse(sbx.metadata.creationTimestamp ?? "") || 0,
      ...(phase === "Failed" && ready ? { failedAt: Date.parse(ready.lastTransitionTime) } : {}),
    };
  }

  function newSandbox(pool: SandboxPool, resolved: Extract<ResolvedTemplate, { ok: true }>): Sandbox {
    const poolName = pool.metadata.name ?? "";
    const suffix = Array.from(
      { length: 5 },
      () => NAME_ALPHABET[Math.floor(ctx.random() * NAME_ALPHABET.length)],
    ).join("");
    return {
      apiVersion: SANDBOX.apiVersion,
      kind: SANDBOX.kind,
      metadata: {
        name: `${poolName.slice(0, 57)}-${suffix}`,
        namespace: pool.metadata.namespace ?? "",
        labels: {
          [LABELS.managedBy]: MANAGED_BY,
          [LABELS.pool]: poolName,
          [LABELS.templateHash]: resolved.hash,
          ...(resolved.runtime ? { [LABELS.runtime]: resolved.runtime } : {}),
        },
        ownerReferences: [controllerRef(SANDBOX_POOL.kind, pool)],
      },
      spec: { sandboxTemplate: resolved.template, templateHash: resolved.hash },
    };
  }

  /** client-go's slow start: batches of 1, 2, 4, … so a pool that cannot create fails after one request. */
  async function createMembers(
    pool: SandboxPool,
    key: string,
    resolved: Extract<ResolvedTemplate, { ok: true }>,
    count: number,
    signal: AbortSignal,
  ) {
    for (let done = 0, batch = 1; done < count; batch *= 2) {
      const size = Math.min(batch, count - done);
      const results = await Promise.allSettled(
        Array.from({ length: size }, async () => {
          const sbx = newSandbox(pool, resolved);
          const name = sbx.metadata.name ?? "";
          ctx.expectations.expectCreate(key, name);
          try {
            const created = await ctx.api.sandboxes.create(sbx, { signal });
            ctx.memo.remember(sandboxKey(sbx.metadata.namespace ?? "", name), undefined, created);
            ctx.kick("sandbox", `${sbx.metadata.namespace}/${name}`);
          } catch (err) {
            ctx.expectations.cancelCreate(key, name);
            throw err;
          }
        }),
      );
      done += size;
      const failure = results.find((r) => r.status === "rejected");
      if (failure) throw failure.reason;
    }
  }

  async function deleteMembers(key: string, doomed: readonly Sandbox[], signal: AbortSignal) {
    await Promise.all(
      doomed.map(async (sbx) => {
        const { namespace = "", name = "", uid, resourceVersion } = sbx.metadata;
        ctx.expectations.expectDelete(key, name);
        try {
          // The preconditions lose against a claim that adopted this sandbox since we read it.
          await ctx.api.sandboxes.delete(name, {
            namespace,
            propagationPolicy: "Background",
            preconditions: { ...(uid ? { uid } : {}), ...(resourceVersion ? { resourceVersion } : {}) },
            signal,
          });
          ctx.memo.remember(sandboxKey(namespace, name), sbx, undefined);
        } catch (err) {
          ctx.expectations.cancelDelete(key, name);
          if (!isConflict(err) && !isNotFound(err)) throw err;
        }
      }),
    );
  }

  async function reconcile(key: string, signal: AbortSignal): Promise<ReconcileResult> {
    const { namespace, name } = splitNamespaced(key);
    const raw = ctx.memo.latest(
      memoKey(SANDBOX_POOL.kind, namespace, name),
      ctx.caches.pools.get(namespace, name),
    );
    if (!raw || raw.metadata?.deletionTimestamp) {
      ctx.expectations.forget(key);
      failureStreak.delete(key);
      deferral.forget(key);
      return undefined;
    }
    const parsed = parseCached(sandboxPoolKind, raw);
    if (!parsed.success) return undefined; // the CRD validates pools; nothing sensible to do with one that isn't
    const pool = parsed.value;
    const resolved = resolvePoolTemplate(pool, ctx.caches);
    const owned = members(pool, key);
    if (!resolved.ok) {
      await writeStatus(
        raw,
        pool,
        owned,
        undefined,
        { status: "False", reason: resolved.reason, message: resolved.message },
        signal,
      );
      return undefined;
    }
    const memberList = owned.map((s) => toMember(s, resolved.hash));
    if (memberList.some((m) => m.state === "Ready" && m.current)) failureStreak.delete(key);
    const streak = failureStreak.get(key) ?? 0;
    const plan = planPool({
      replicas: pool.spec.replicas,
      members: memberList,
      pendingCreates: ctx.expectations.pendingCreates(
        key,
        (n) => ctx.caches.sandboxes.get(namespace, n) !== undefined,
      ).length,
      now: ctx.clock.now(),
      failedHoldMs: Math.min(FAILED_HOLD_MAX_MS, FAILED_HOLD_MS * 2 ** streak),
    });
    const doomed = owned.filter((s) => plan.delete.includes(s.metadata.name ?? ""));
    if (doomed.some((s) => s.status?.phase === "Failed")) failureStreak.set(key, streak + 1);
    if (pool.status?.templateHash && pool.status.templateHash !== resolved.hash)
      ctx.events.record(pool, "Normal", "TemplateChanged", `rolling out template ${resolved.hash}`);
    await deleteMembers(key, doomed, signal);
    const remaining = owned.filter((s) => !doomed.includes(s));
    if (plan.create > 0) {
      const ready = remaining.filter((s) => s.status?.phase === "Ready").length;
      const wait = deferral.delayMs(key, pool, ready, resolved.hash);
      // Its members are being claimed right now: counts in flux are not worth a status write either.
      if (wait > 0) return { requeueAfterMs: Math.min(wait, plan.recheckAfterMs ?? wait) };
      await createMembers(pool, key, resolved, Math.min(plan.create, REFILL_CHUNK), signal);
    }
    await writeStatus(
      raw,
      pool,
      remaining,
      resolved.hash,
      readyCondition(pool, remaining, resolved.hash),
      signal,
    );
    // A large refill goes in chunks: between them the deferral looks again (a new burst of claims stops
    // it) and the node's sandbox starts are spread out rather than all begun at once.
    const next = plan.create > REFILL_CHUNK ? REFILL_CHUNK_PAUSE_MS : plan.recheckAfterMs;
    return next === undefined ? undefined : { requeueAfterMs: Math.min(next, plan.recheckAfterMs ?? next) };
  }

  async function writeStatus(
    raw: SandboxPool,
    pool: SandboxPool,
    owned: readonly Sandbox[],
    hash: string | undefined,
    ready: Omit<Condition, "type" | "lastTransitionTime">,
    signal: AbortSignal,
  ) {
    const generation = pool.metadata.generation;
    const readyMembers = owned.filter((s) => s.status?.phase === "Ready");
    const status = {
      replicas: owned.length,
      readyReplicas: readyMembers.length,
      availableReplicas: readyMembers.filter((s) => s.spec.templateHash === hash).length,
      ...(hash
        ? { templateHash: hash }
        : pool.status?.templateHash
          ? { templateHash: pool.status.templateHash }
          : {}),
      selector: poolSelector(pool.metadata.name ?? ""),
      conditions: setCondition(
        pool.status?.conditions,
        { type: "Ready", ...ready },
        rfc3339(ctx.clock.now()),
        generation,
      ),
      ...(generation === undefined ? {} : { observedGeneration: generation }),
    };
    const updated = await patchStatusIfChanged(ctx.api.pools, raw, status, { signal });
    if (updated)
      ctx.memo.remember(
        memoKey(SANDBOX_POOL.kind, pool.metadata.namespace ?? "", pool.metadata.name ?? ""),
        raw,
        updated,
      );
  }

  return { reconcile };
}

function readyCondition(
  pool: SandboxPool,
  owned: readonly Sandbox[],
  hash: string,
): Omit<Condition, "type" | "lastTransitionTime"> {
  const want = pool.spec.replicas;
  const available = owned.filter((s) => s.status?.phase === "Ready" && s.spec.templateHash === hash).length;
  if (available >= want)
    return { status: "True", reason: "Ready", message: `${available} of ${want} sandboxes ready` };
  const failed = owned.find((s) => s.status?.phase === "Failed");
  if (failed) {
    const why = failed.status?.conditions?.find((c) => c.type === "Ready");
    return {
      status: "False",
      reason: "SandboxFailed",
      message: `sandbox ${failed.metadata.name} failed: ${why?.reason ?? ""} ${why?.message ?? ""}`.trim(),
    };
  }
  return { status: "False", reason: "Provisioning", message: `${available} of ${want} sandboxes ready` };
}
