/**
 * Where a SandboxClaim's sandbox comes from: the index of warm candidates to try, and the template a cold
 * sandbox is built from (the claim's own, or its pool's). Plus small pure helpers of the claim controller.
 */
import { LABELS, RESERVED_PREFIX } from "../../api/reserved-keys";
import type { Sandbox } from "../../api/sandbox";
import { SANDBOX_CLAIM, type SandboxClaim, sandboxClaimKind } from "../../api/sandbox-claim";
import { sandboxPoolKind } from "../../api/sandbox-pool";
import type { SandboxTemplate } from "../../api/sandbox-template";
import type { Unbound } from "../render/claim-status";
import { type Caches, type ControllerContext, memoKey } from "./controller-context";
import { INDEX } from "./object-cache";
import { parsedOrUndefined } from "./parse-cached";
import { cachedTemplateHash, resolvePoolTemplate } from "./pool-template";

export type ClaimSource =
  | {
      readonly ok: true;
      readonly index: string;
      readonly template: SandboxTemplate;
      readonly hash: string;
      readonly runtime?: string;
    }
  | { readonly ok: false; readonly unbound: Unbound };

/** A template claim searches `hash:<ns>/<hash>`; a poolRef claim its pool, `pool:<uid>`. */
export function claimSource(claim: SandboxClaim, caches: Caches): ClaimSource {
  const ns = claim.metadata.namespace ?? "";
  if (claim.spec.sandboxTemplate) {
    const hash = cachedTemplateHash(claim.spec.sandboxTemplate);
    return { ok: true, index: `hash:${ns}/${hash}`, template: claim.spec.sandboxTemplate, hash };
  }
  const poolName = claim.spec.poolRef?.name ?? "";
  const pool = parsedOrUndefined(sandboxPoolKind, caches.pools.get(ns, poolName));
  if (!pool || pool.metadata.deletionTimestamp)
    return {
      ok: false,
      unbound: { reason: "PoolNotFound", message: `SandboxPool ${poolName} does not exist` },
    };
  const resolved = resolvePoolTemplate(pool, caches);
  if (!resolved.ok) return { ok: false, unbound: { reason: resolved.reason, message: resolved.message } };
  return {
    ok: true,
    index: `pool:${pool.metadata.uid}`,
    template: resolved.template,
    hash: resolved.hash,
    ...(resolved.runtime ? { runtime: resolved.runtime } : {}),
  };
}

/**
 * How many other claims of this namespace wait for a warm sandbox from the same source with no other way
 * to get one (PoolRequired, unbound, not going away). Bindings this process just wrote count as bound.
 */
export function requiredWaiting(claim: SandboxClaim, ctx: ControllerContext): number {
  const ns = claim.metadata.namespace ?? "";
  const sourceOf = (c: SandboxClaim) =>
    c.spec.sandboxTemplate
      ? `hash:${cachedTemplateHash(c.spec.sandboxTemplate)}`
      : `pool:${c.spec.poolRef?.name}`;
  const mine = sourceOf(claim);
  let waiting = 0;
  for (const cached of ctx.caches.claims.byIndex(INDEX.unbound, ns)) {
    const name = cached.metadata?.name ?? "";
    if (name === claim.metadata.name) continue;
    const raw = ctx.memo.latest(memoKey(SANDBOX_CLAIM.kind, ns, name), cached);
    const other = parsedOrUndefined(sandboxClaimKind, raw);
    if (other?.spec.mode !== "PoolRequired" || other.metadata.deletionTimestamp) continue;
    if (other.status?.sandboxName || boundByThisProcess(ctx, other)) continue;
    if (sourceOf(other) === mine) waiting++;
  }
  return waiting;
}

/** This process wrote a binding for the claim, or its session pre-adopted a sandbox for it. */
export function boundByThisProcess(ctx: ControllerContext, claim: SandboxClaim): boolean {
  const owner = claim.metadata.ownerReferences?.find((r) => r.controller === true);
  return (
    ctx.bindings.get(claim.metadata.uid ?? "") !== undefined ||
    (owner !== undefined && ctx.bindings.get(owner.uid) !== undefined)
  );
}

/** The one to keep: the one the status names, else a Ready one, else the oldest. */
export function rank(held: readonly Sandbox[], statusName: string | undefined): Sandbox[] {
  const score = (s: Sandbox) =>
    (s.metadata.name === statusName ? 2 : 0) + (s.status?.phase === "Ready" ? 1 : 0);
  return [...held].sort(
    (a, b) =>
      score(b) - score(a) ||
      (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? ""),
  );
}

/** Session and runtime labels travel from the claim to its sandbox, so `kubectl get sbx -l …` finds it. */
export function provenance(claim: SandboxClaim): Record<string, string> {
  const keys = [LABELS.session, LABELS.sessionKind, LABELS.runtime];
  return Object.fromEntries(
    Object.entries(claim.metadata.labels ?? {}).filter(
      ([k]) => keys.includes(k as never) && k.startsWith(RESERVED_PREFIX),
    ),
  );
}
