/**
 * What a SandboxPool should do next, as a pure function of what it owns. Counting only unclaimed sandboxes
 * (a claimed one no longer has the pool as owner), it keeps `replicas` of the current template Ready or on
 * their way, and rolls a template change out by surge: new sandboxes are created first and an old Ready one
 * is removed only when a new Ready one takes its place, so warm capacity never drops during a rollout.
 */

export type MemberState = "Ready" | "Pending" | "Failed";

export interface PoolMember {
  readonly name: string;
  readonly state: MemberState;
  /** Built from the pool's current template. */
  readonly current: boolean;
  /** Creation time (ms), to pick the youngest when scaling down. */
  readonly createdAt: number;
  /** When a Failed member failed (ms), for the replacement back-off. */
  readonly failedAt?: number;
}

export interface PoolPlanInput {
  readonly replicas: number;
  readonly members: readonly PoolMember[];
  /** Sandboxes created but not yet in the cache: they count as Pending current members. */
  readonly pendingCreates: number;
  readonly now: number;
  /** How long a Failed member stays (holding its slot) before it is deleted and replaced. */
  readonly failedHoldMs: number;
}

export interface PoolPlan {
  readonly create: number;
  readonly delete: readonly string[];
  /** When to look again (a Failed member's hold ends), if at all. */
  readonly recheckAfterMs?: number;
}

export function planPool(input: PoolPlanInput): PoolPlan {
  const { replicas, members, now } = input;
  const doomed: string[] = [];
  let recheck: number | undefined;
  // Failed members hold their slot for a while: an image that never runs must not spin create/delete.
  const failed = members.filter((m) => m.state === "Failed");
  for (const m of failed) {
    const left = (m.failedAt ?? now) + input.failedHoldMs - now;
    if (left <= 0) doomed.push(m.name);
    else recheck = Math.min(recheck ?? left, left);
  }
  const failedHeld = failed.length - doomed.length;
  const current = members.filter((m) => m.current && m.state !== "Failed");
  const old = members.filter((m) => !m.current && m.state !== "Failed");
  const currentCount = current.length + input.pendingCreates + failedHeld;
  const create = Math.max(0, replicas - currentCount);
  // Too many current members: drop the least useful first (not yet Ready, then the youngest).
  const excess = Math.max(0, currentCount - replicas);
  doomed.push(
    ...byUsefulness(current)
      .slice(0, Math.min(excess, current.length))
      .map((m) => m.name),
  );
  // Old members: not-Ready ones are no capacity at all; Ready ones go as new Ready ones replace them.
  const currentReady = current.filter((m) => m.state === "Ready").length;
  const oldReady = byUsefulness(old.filter((m) => m.state === "Ready")).reverse();
  const keepOld = Math.max(0, Math.min(replicas, replicas - currentReady));
  doomed.push(...old.filter((m) => m.state !== "Ready").map((m) => m.name));
  doomed.push(...oldReady.slice(keepOld).map((m) => m.name));
  return { create, delete: doomed, ...(recheck === undefined ? {} : { recheckAfterMs: recheck }) };
}

/** Least useful first: Pending before Ready, then youngest first. */
function byUsefulness(members: readonly PoolMember[]): PoolMember[] {
  const rank = (m: PoolMember) => (m.state === "Ready" ? 1 : 0);
  return [...members].sort((a, b) => rank(a) - rank(b) || b.createdAt - a.createdAt);
}
