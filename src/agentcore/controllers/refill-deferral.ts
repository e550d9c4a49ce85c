/**
 * When a pool refills: right after the claims now taking its warm sandboxes are bound, not while they are.
 *
 * A refill is a burst of writes (a Sandbox, then its Pod, which the scheduler binds and the node reports
 * on), and a burst of claims is a burst of adoptions. Both go to one apiserver; started together, the
 * refill's dozens of creates crowd out the claims' adoption and status writes, and every waiting claim
 * binds later while the replacement sandboxes are not Ready any sooner. So a pool that still has Ready
 * members and sees unbound claims for itself holds its creates back, rechecking often, for as long as
 * the claims make progress (its Ready members keep going) and never longer than `maxMs` without progress —
 * a claim that cannot bind (a stopped claim controller) cannot stop a refill. Claims that find no Ready
 * member (PoolRequired on an exhausted pool) never wait for this: with no Ready member there is nothing to
 * defer for.
 */
import { SANDBOX_CLAIM, sandboxClaimKind } from "../../api/sandbox-claim";
import type { SandboxPool } from "../../api/sandbox-pool";
import { type ControllerContext, memoKey } from "./controller-context";
import { INDEX } from "./object-cache";
import { parsedOrUndefined } from "./parse-cached";
import { cachedTemplateHash } from "./pool-template";

/** How often a deferred refill looks again. */
export const REFILL_RECHECK_MS = 50;
/** The longest a refill waits for claims that make no progress. */
export const REFILL_MAX_DEFER_MS = 5_000;

export interface RefillDeferral {
  /**
   * How long `pool` (work-queue `key`) should wait before creating, given how many of its members are Ready
   * for the taking now; 0 means create now.
   */
  delayMs(key: string, pool: SandboxPool, readyMembers: number, hash: string): number;
  forget(key: string): void;
}

export function createRefillDeferral(ctx: ControllerContext, maxMs = REFILL_MAX_DEFER_MS): RefillDeferral {
  /** pool key → when the claims last made progress (monotonic ms), and how many Ready members it had then. */
  const progress = new Map<string, { readonly at: number; readonly ready: number }>();

  /** An unbound, live claim of this namespace that would take a sandbox from this pool. */
  function claimWaiting(pool: SandboxPool, hash: string): boolean {
    const ns = pool.metadata.namespace ?? "";
    for (const cached of ctx.caches.claims.byIndex(INDEX.unbound, ns)) {
      const name = cached.metadata?.name ?? "";
      const raw = ctx.memo.latest(memoKey(SANDBOX_CLAIM.kind, ns, name), cached);
      const claim = parsedOrUndefined(sandboxClaimKind, raw);
      if (!claim || claim.metadata.deletionTimestamp || claim.status?.sandboxName) continue;
      if (ctx.bindings.get(claim.metadata.uid ?? "")) continue;
      const template = claim.spec.sandboxTemplate;
      const mine = template
        ? cachedTemplateHash(template) === hash
        : claim.spec.poolRef?.name === pool.metadata.name;
      if (mine) return true;
    }
    return false;
  }

  return {
    delayMs(key, pool, readyMembers, hash) {
      if (readyMembers === 0 || !claimWaiting(pool, hash)) {
        progress.delete(key);
        return 0;
      }
      const now = ctx.clock.monotonic();
      const last = progress.get(key);
      if (!last || readyMembers < last.ready) progress.set(key, { at: now, ready: readyMembers });
      else if (now - last.at >= maxMs) return 0;
      return REFILL_RECHECK_MS;
    },
    forget: (key) => void progress.delete(key),
  };
}
