/**
 * When a pool refills: after a burst of claims has taken its warm sandboxes, not while it is doing so.
 *
 * A refill is a burst of writes (a Sandbox, then its Pod, which the scheduler binds and the node reports
 * on) and, worse, a burst of sandbox processes starting on the node; a burst of claims is a burst of
 * adoptions, each followed by the claim's and the session's status writes and the session's first run.
 * They share one apiserver and the node's CPU; started together, the refill crowds out the sessions that
 * users are waiting for, while the replacements are not Ready any sooner. So a pool holds its creates
 * back (see `refillHold`):
 *   - while unbound claims for it wait and it still has Ready members, as long as the claims make
 *     progress (its Ready members keep going) and never longer than `maxMs` without progress — a claim
 *     that cannot bind (a stopped claim controller) cannot stop a refill;
 *   - after a burst of adoptions (many members taken within `quietMs`) until the pool has been quiet for
 *     `quietMs`: the sessions just bound are still becoming Ready and running their first code. Never
 *     longer than `maxMs` in all, so a steady stream of sessions cannot keep a pool empty. A trickle of
 *     single claims is no burst: its sandbox is replaced at once.
 * Claims that find no Ready member (PoolRequired on an exhausted pool) never wait: with no Ready member
 * there is nothing to defer for, and they need the refill. A claim whose session already holds its sandbox
 * (reserved when the session was created, or pre-adopted) is not waiting for a member at all: in a burst
 * the sessions' own writes go first and their claims follow seconds later, and counting those claims
 * as waiting would start the refill the moment the last member was reserved.
 */
import { SANDBOX_CLAIM, sandboxClaimKind } from "../../api/sandbox-claim";
import type { SandboxPool } from "../../api/sandbox-pool";
import { heldForClaim } from "./claim-session";
import { boundByThisProcess } from "./claim-source";
import { type ControllerContext, memoKey } from "./controller-context";
import { INDEX } from "./object-cache";
import { parsedOrUndefined } from "./parse-cached";
import { cachedTemplateHash } from "./pool-template";

/** How often a deferred refill looks again while claims are binding (each adoption wakes it sooner). */
export const REFILL_RECHECK_MS = 250;
/** The longest a refill waits for claims that make no progress. */
export const REFILL_MAX_DEFER_MS = 5_000;
/**
 * The longest a refill waits for a burst of adoptions to end. A 200-session burst on a loaded machine
 * adopts for 10-30 s; at 5 s its refill (each new sandbox a process start, ~0.4 CPU s) began while most
 * of its sessions still waited for their writes and first run.
 */
export const REFILL_BURST_MAX_DEFER_MS = 15_000;
/** How long a pool must see no adoption after a burst before it refills. */
export const REFILL_QUIET_MS = 1_000;
/** Members taken within `REFILL_QUIET_MS` that make a burst. */
export const REFILL_BURST_ADOPTIONS = 8;

export interface HoldState {
  /** Ready members at the last look. */
  readonly ready: number;
  /** When the claims last made progress (monotonic ms). */
  readonly progressAt: number;
  /** Members taken within the quiet period: when, and how many. */
  readonly taken: readonly { readonly at: number; readonly n: number }[];
  /** When the current burst of adoptions began, while the refill waits for it to end. */
  readonly burstSince?: number;
}

export interface HoldLimits {
  readonly maxMs: number;
  /** The cap for a burst's hold (default `maxMs`). */
  readonly burstMaxMs?: number;
  readonly quietMs: number;
  readonly burstAdoptions: number;
}

/** The pure decision: how long to hold the refill now (0 = create now), and the state to keep. */
export function refillHold(
  last: HoldState | undefined,
  input: { readonly now: number; readonly ready: number; readonly claimWaiting: boolean },
  limits: HoldLimits,
): { readonly delayMs: number; readonly state: HoldState } {
  const { now, ready } = input;
  const fell = last && ready < last.ready ? last.ready - ready : 0;
  const taken = [...(last?.taken ?? []), ...(fell > 0 ? [{ at: now, n: fell }] : [])].filter(
    (t) => now - t.at < limits.quietMs,
  );
  const recent = taken.reduce((sum, t) => sum + t.n, 0);
  const burstSince = last?.burstSince ?? (recent >= limits.burstAdoptions ? now : undefined);
  const progressAt = !last || fell > 0 ? now : last.progressAt;
  const state = { ready, progressAt, taken, ...(burstSince === undefined ? {} : { burstSince }) };
  if (input.claimWaiting) {
    if (ready === 0 || now - progressAt >= limits.maxMs) return { delayMs: 0, state };
    return { delayMs: REFILL_RECHECK_MS, state };
  }
  const quiet = { delayMs: 0, state: { ready, progressAt, taken } };
  if (burstSince === undefined || taken.length === 0) return quiet;
  const cap = limits.burstMaxMs ?? limits.maxMs;
  // Held as long as allowed: refill now, and let a new burst start counting afresh.
  if (now - burstSince >= cap) return { ...quiet, state: { ready, progressAt, taken: [] } };
  const quietIn = (taken.at(-1)?.at ?? now) + limits.quietMs - now;
  const capIn = burstSince + cap - now;
  return { delayMs: Math.max(1, Math.min(quietIn, capIn)), state };
}

export interface RefillDeferral {
  /**
   * How long `pool` (work-queue `key`) should wait before creating, given how many of its members are Ready
   * for the taking now; 0 means create now.
   */
  delayMs(key: string, pool: SandboxPool, readyMembers: number, hash: string): number;
  forget(key: string): void;
}

export function createRefillDeferral(
  ctx: ControllerContext,
  limits: HoldLimits = {
    maxMs: REFILL_MAX_DEFER_MS,
    burstMaxMs: REFILL_BURST_MAX_DEFER_MS,
    quietMs: REFILL_QUIET_MS,
    burstAdoptions: REFILL_BURST_ADOPTIONS,
  },
): RefillDeferral {
  const states = new Map<string, HoldState>();

  /** An unbound, live claim of this namespace that would take a sandbox from this pool. */
  function claimWaiting(pool: SandboxPool, hash: string): boolean {
    const ns = pool.metadata.namespace ?? "";
    for (const cached of ctx.caches.claims.byIndex(INDEX.unbound, ns)) {
      const name = cached.metadata?.name ?? "";
      const raw = ctx.memo.latest(memoKey(SANDBOX_CLAIM.kind, ns, name), cached);
      const claim = parsedOrUndefined(sandboxClaimKind, raw);
      if (!claim || claim.metadata.deletionTimestamp || claim.status?.sandboxName) continue;
      if (boundByThisProcess(ctx, claim)) continue;
      const template = claim.spec.sandboxTemplate;
      const mine = template
        ? cachedTemplateHash(template) === hash
        : claim.spec.poolRef?.name === pool.metadata.name;
      // One whose session reserved or pre-adopted a sandbox for it completes that binding, takes no member.
      if (mine && heldForClaim(ctx, claim).length === 0) return true;
    }
    return false;
  }

  return {
    delayMs(key, pool, readyMembers, hash) {
      const input = {
        now: ctx.clock.monotonic(),
        ready: readyMembers,
        // Asked even of an empty pool: its waiting claims (PoolRequired) need the refill, not a burst hold.
        claimWaiting: claimWaiting(pool, hash),
      };
      const { delayMs, state } = refillHold(states.get(key), input, limits);
      states.set(key, state);
      return delayMs;
    },
    forget: (key) => void states.delete(key),
  };
}
