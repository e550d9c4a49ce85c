/**
 * Taking a warm sandbox from its pool, shared by the claim controller and the session provisioner.
 *
 * Taking is always one conditional write: a PUT of the candidate as read, with its resourceVersion, that
 * moves the controller reference away from the pool. Of any two writers racing for one sandbox (claims,
 * sessions, in this process or another), the apiserver accepts exactly one; the other gets Conflict and
 * tries the next candidate. A sandbox no pool controls is never a candidate again.
 *
 * Two ways to take one:
 * - adoption by a claim: `spec.claimRef` (name + uid) and the controller reference move to the claim;
 * - pre-adoption by a pool-mode session whose claim does not exist yet: the controller reference moves
 *   to the session and `spec.claimRef` stays unset. Only the session's uid is needed, so it is written at
 *   the same time as the session's claim, not after it: a warm create waits for two chained writes
 *   (session, this one) instead of three. The claim (named like the session, controlled by it) then
 *   completes the binding with an ordinary adoption write of that sandbox, off the critical path.
 *
 * A pre-adopted sandbox is held for exactly one session uid: a recreated session of the same name has
 * another uid and never sees it, and deleting the session (or its failed create being cleaned up) deletes
 * the sandbox by cascade, since the session controls it.
 */
import { LABELS } from "../../api/reserved-keys";
import { SANDBOX, type Sandbox } from "../../api/sandbox";
import { SANDBOX_CLAIM, type SandboxClaim } from "../../api/sandbox-claim";
import { SANDBOX_POOL } from "../../api/sandbox-pool";
import { isConflict, isNotFound } from "../../kube/kube-error";
import { type ClaimSource, claimSource, provenance, requiredWaiting } from "./claim-source";
import { type ControllerContext, memoKey } from "./controller-context";
import { INDEX } from "./object-cache";
import { controllerOf, controllerRef } from "./owner-refs";
import { RESERVATION_GRACE_MS, reservationOf } from "./reservation-annotation";

/** Adoption writes under way in this process, so concurrent workers do not race each other needlessly. */
export interface AdoptionsInFlight {
  /** Sandboxes (`namespace/name`) a write is taking right now: other workers skip them. */
  readonly sandboxes: Set<string>;
  /** Sessions (uid) whose pre-adoption is under way: their claim waits for its outcome. */
  readonly sessions: Set<string>;
}

export function createAdoptionsInFlight(): AdoptionsInFlight {
  return { sandboxes: new Set(), sessions: new Set() };
}

/** A session as the pre-adoption write needs it. */
export interface SessionRef {
  readonly kind: string;
  readonly metadata: {
    readonly name?: string | undefined;
    readonly namespace?: string | undefined;
    readonly uid?: string | undefined;
  };
}

const sandboxKey = (ns: string, name: string) => memoKey(SANDBOX.kind, ns, name);

/** The freshest known version of a sandbox: this process's own last write, or the cache's. */
export function latestSandbox(ctx: ControllerContext, ns: string, name: string): Sandbox | undefined {
  return ctx.memo.latest(sandboxKey(ns, name), ctx.caches.sandboxes.get(ns, name));
}

/** Ready, untaken, not going away, still controlled by a live pool; current template first. */
export function warmCandidates(
  ctx: ControllerContext,
  ns: string,
  src: Extract<ClaimSource, { ok: true }>,
): Sandbox[] {
  const out: Sandbox[] = [];
  for (const cached of ctx.caches.sandboxes.byIndex(INDEX.available, src.index)) {
    const name = cached.metadata.name ?? "";
    if (ctx.adopting.sandboxes.has(`${ns}/${name}`)) continue;
    const raw = latestSandbox(ctx, ns, name);
    if (ctx.outdated.isOutdated(sandboxKey(ns, name), raw?.metadata.resourceVersion)) continue;
    if (!raw || raw.spec?.claimRef || raw.metadata.deletionTimestamp || raw.status?.phase !== "Ready")
      continue;
    if (awaitedByReservation(ctx, raw)) continue;
    const owner = controllerOf(raw);
    if (owner?.kind !== SANDBOX_POOL.kind) continue;
    const pool = ctx.caches.pools.get(ns, owner.name);
    if (!pool || pool.metadata.uid !== owner.uid || pool.metadata.deletionTimestamp) continue;
    out.push(raw);
  }
  return out.sort(
    (a, b) => Number(b.spec.templateHash === src.hash) - Number(a.spec.templateHash === src.hash),
  );
}

/**
 * Whether a live session's reservation may still land on `s` as it is: the session's handler read exactly
 * this version, so its conditional PUT may be in flight (reservation.ts). Taking the sandbox would make
 * that PUT fail and leave that session to the whole chain of claim, adoption and status instead of its
 * answer, and each such session falls back to pre-adopting another sandbox, perhaps someone else's in turn.
 * The session's leader takes the sandbox for it once the reservation has settled; after the grace period
 * a reservation holds nothing back any more, whatever became of its session.
 */
function awaitedByReservation(ctx: ControllerContext, s: Sandbox): boolean {
  const key = `${s.metadata.namespace ?? ""}/${s.metadata.name ?? ""}`;
  const sessions = [
    ...ctx.caches.codeInterpreters.byIndex(INDEX.reservation, key),
    ...ctx.caches.agentSessions.byIndex(INDEX.reservation, key),
  ];
  return sessions.some((session) => {
    if (session.metadata.deletionTimestamp) return false;
    if (reservationOf(session)?.resourceVersion !== s.metadata.resourceVersion) return false;
    const age = ctx.clock.now() - (Date.parse(session.metadata.creationTimestamp ?? "") || 0);
    return age < RESERVATION_GRACE_MS;
  });
}

/** `raw` held by `claim`: claimRef set once, controller reference to the claim, its labels. */
export function claimedBy(raw: Sandbox, claim: SandboxClaim): Sandbox {
  return {
    ...raw,
    metadata: {
      ...raw.metadata,
      labels: { ...raw.metadata.labels, ...provenance(claim), [LABELS.claim]: claim.metadata.name ?? "" },
      ownerReferences: [controllerRef(SANDBOX_CLAIM.kind, claim)],
    },
    spec: { ...raw.spec, claimRef: { name: claim.metadata.name ?? "", uid: claim.metadata.uid ?? "" } },
  };
}

/** `raw` held by `session` until its claim completes the binding: no claimRef yet. */
export function preAdoptedBy(raw: Sandbox, session: SessionRef, labels: Record<string, string>): Sandbox {
  return {
    ...raw,
    metadata: {
      ...raw.metadata,
      labels: { ...raw.metadata.labels, ...labels },
      ownerReferences: [controllerRef(session.kind, session)],
    },
  };
}

/**
 * The one conditional write taking `raw` (as read) to `next`. Returns the sandbox as written, or undefined
 * if another writer changed it first (Conflict) or it is gone.
 */
export async function takeSandbox(
  ctx: ControllerContext,
  raw: Sandbox,
  next: Sandbox,
  signal: AbortSignal,
): Promise<Sandbox | undefined> {
  const ns = raw.metadata.namespace ?? "";
  const name = raw.metadata.name ?? "";
  ctx.adopting.sandboxes.add(`${ns}/${name}`);
  try {
    const taken = await ctx.api.sandboxes.update(next, { signal });
    ctx.memo.remember(sandboxKey(ns, name), raw, taken);
    return taken;
  } catch (err) {
    if (isConflict(err) || isNotFound(err)) {
      // Someone took (or deleted) it first: no other session of this process tries this version again.
      ctx.outdated.mark(sandboxKey(ns, name), raw.metadata.resourceVersion ?? "");
      return undefined;
    }
    throw err;
  } finally {
    ctx.adopting.sandboxes.delete(`${ns}/${name}`);
  }
}

/** Whether `s` is a pool's sandbox pre-adopted by the session with this uid (not yet claimed). */
export function isPreAdoptedBy(s: Sandbox | undefined, sessionUid: string): boolean {
  return (
    s !== undefined &&
    sessionUid !== "" &&
    !s.spec?.claimRef &&
    !s.metadata.deletionTimestamp &&
    s.metadata.labels?.[LABELS.pool] !== undefined &&
    controllerOf(s)?.uid === sessionUid
  );
}

/** The live sandboxes pre-adopted by this session (normally none or one), freshest known versions. */
export function preAdoptedFor(ctx: ControllerContext, ns: string, sessionUid: string): Sandbox[] {
  if (!sessionUid) return [];
  const names = new Set(
    ctx.caches.sandboxes.byIndex(INDEX.controller, sessionUid).map((s) => s.metadata.name),
  );
  const written = ctx.bindings.get(sessionUid);
  if (written) names.add(written);
  const out: Sandbox[] = [];
  for (const name of names) {
    const s = latestSandbox(ctx, ns, name ?? "");
    if (isPreAdoptedBy(s, sessionUid) && s) out.push(s);
  }
  return out;
}

/**
 * Pre-adopts a warm sandbox for `session`, whose claim `claim` (as about to be created) would take it;
 * written at the same time as that claim. Nothing happens when the session holds one already (a retry, a
 * new leader), when no candidate is free (the claim then binds as always: waits, or starts its own), or
 * when a PoolPreferred claim would leave the last warm sandboxes to waiting PoolRequired claims. The claim
 * waits for the outcome (`adopting.sessions`) and is kicked once it is known.
 */
export async function preAdoptWarm(
  ctx: ControllerContext,
  session: SessionRef,
  claim: SandboxClaim,
  labels: Record<string, string>,
  signal: AbortSignal,
): Promise<Sandbox | undefined> {
  const ns = session.metadata.namespace ?? "";
  const uid = session.metadata.uid ?? "";
  if (!uid || preAdoptedFor(ctx, ns, uid).length > 0) return undefined;
  const src = claimSource(claim, ctx.caches);
  if (!src.ok) return undefined;
  const found = warmCandidates(ctx, ns, src);
  if (claim.spec.mode === "PoolPreferred" && found.length <= requiredWaiting(claim, ctx)) return undefined;
  ctx.adopting.sessions.add(uid);
  try {
    for (const candidate of found) {
      // The claim label already: the sandbox's claim is named like the session, and the pool's selector
      // (`!claim`) stops counting it at once.
      const next = preAdoptedBy(candidate, session, { ...labels, [LABELS.claim]: claim.metadata.name ?? "" });
      const taken = await takeSandbox(ctx, candidate, next, signal);
      if (taken) {
        ctx.bindings.bound(session, taken);
        return taken;
      }
    }
    return undefined;
  } finally {
    ctx.adopting.sessions.delete(uid);
    ctx.kick("claim", `${ns}/${claim.metadata.name ?? ""}`);
  }
}

/** A session that cannot have its claim (its name is taken) lets go of the sandboxes it pre-adopted. */
export async function releasePreAdopted(
  ctx: ControllerContext,
  ns: string,
  sessionUid: string,
  signal: AbortSignal,
): Promise<void> {
  await deleteSandboxes(ctx, preAdoptedFor(ctx, ns, sessionUid), signal);
}

/**
 * Deletes exactly these sandboxes (uid precondition: never a newer one of the same name; with `asRead`,
 * also the resourceVersion: never one changed since it was read) and forgets them in the write memo. One
 * already gone, replaced or changed is no error.
 */
export async function deleteSandboxes(
  ctx: ControllerContext,
  doomed: readonly Sandbox[],
  signal: AbortSignal,
  asRead = false,
): Promise<void> {
  for (const sbx of doomed) {
    const { namespace = "", name = "", uid, resourceVersion } = sbx.metadata;
    try {
      await ctx.api.sandboxes.delete(name, {
        namespace,
        propagationPolicy: "Background",
        preconditions: { ...(uid ? { uid } : {}), ...(asRead && resourceVersion ? { resourceVersion } : {}) },
        signal,
      });
      ctx.memo.remember(sandboxKey(namespace, name), sbx, undefined);
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
  }
}
