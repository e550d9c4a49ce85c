/**
 * Reservations: a warm sandbox taken by session NAME, by the RPC replica creating that session, in parallel
 * with the session's own POST (the name is known before it exists; its uid is not). A warm create then
 * waits for one round of two parallel writes instead of two chained ones (the leader's pre-adoption needs
 * the session's uid, so it can only follow the POST).
 *
 * The reservation is one conditional write (PUT with the resourceVersion as read) that removes every owner
 * reference from a Ready pool sandbox and names the session in an annotation, with a random token the
 * session carries too (annotation `reservation`: sandbox, resourceVersion as read, token). Removing the
 * pool's controller reference makes every other taker see the sandbox as taken without any new rule:
 * claims, pre-adoptions, the pool's member count, its scale-down and rollout all consider only sandboxes a
 * pool controls. Exactly one of any racing writers wins, as with every adoption.
 *
 * The leader turns a reservation into an ordinary pre-adoption (controller → session uid) before it creates
 * the session's claim (`adoptReserved`). It decides from the sandbox as the apiserver has it, never from a
 * possibly stale cache: reserved for this session and token → take it; still at the resourceVersion the
 * handler read (its PUT in flight, or lost with the handler) → take it with a write conditional on exactly
 * that version, so either the handler's reservation or this write wins and the session gets that sandbox
 * both ways; anything else → the reservation can never land (its precondition is gone) and the session is
 * provisioned as if there had been none. So a session answered from its reservation always ends up on that
 * sandbox, and a session whose reservation failed is never left waiting for it.
 *
 * Nothing leaks: the sandbox controller deletes a reservation still unowned after a grace period whose
 * session does not exist (checked at the apiserver), carries another token, or already holds another
 * sandbox. A recreated session of the same name never inherits it: the token differs.
 */
import { LABELS } from "../../api/reserved-keys";
import { SANDBOX, type Sandbox } from "../../api/sandbox";
import { SANDBOX_POOL } from "../../api/sandbox-pool";
import { isNotFound } from "../../kube/kube-error";
import { type ControllerContext, memoKey, type ReconcileResult } from "./controller-context";
import { controllerOf } from "./owner-refs";
import {
  type Annotated,
  RESERVATION,
  RESERVATION_GRACE_MS,
  reservationOf,
  type SessionReservation,
} from "./reservation-annotation";
import {
  deleteSandboxes,
  latestSandbox,
  preAdoptedBy,
  preAdoptedFor,
  type SessionRef,
  takeSandbox,
} from "./warm-adoption";

/**
 * A handler whose two writes took longer than this does not answer from the reservation. In a 200-session
 * burst the creates' writes queue for seconds; each one past the window waited for the whole chain of
 * claim, adoption and status instead (at 5 s, the slowest tenth of a burst). It stays well inside the
 * grace period (reservation-annotation.ts): a session answered from its reservation existed long before
 * anything could remove that reservation.
 */
export const RESERVATION_ANSWER_WINDOW_MS = 10_000;
/** Attempts at taking a reserved sandbox whose resourceVersion keeps moving (status writes). */
const TAKE_ATTEMPTS = 4;

/** Whether `s` is an unowned, live reservation for this session (kind, name) and token. */
export function isReservedFor(s: Sandbox | undefined, kind: string, name: string, token: string): boolean {
  return (
    s !== undefined &&
    !s.metadata.deletionTimestamp &&
    !s.spec?.claimRef &&
    controllerOf(s) === undefined &&
    s.metadata.annotations?.[RESERVATION.reservedFor] === `${kind}/${name}/${token}`
  );
}

/** The session an unowned reservation names: kind, name, token; undefined for any other sandbox. */
export function reservedSession(
  s: Sandbox | undefined,
): { kind: string; name: string; token: string } | undefined {
  if (!s || controllerOf(s) !== undefined || s.spec?.claimRef) return undefined;
  const [kind, name, token, ...rest] = (s.metadata.annotations?.[RESERVATION.reservedFor] ?? "").split("/");
  return kind && name && token && rest.length === 0 ? { kind, name, token } : undefined;
}

/** `raw` (a Ready pool sandbox, as read) reserved for session `kind/name` with `token`. */
export function reservedBy(raw: Sandbox, kind: string, name: string, token: string, nowIso: string): Sandbox {
  const { ownerReferences: _pool, ...metadata } = raw.metadata;
  return {
    ...raw,
    metadata: {
      ...metadata,
      ownerReferences: [],
      // The claim label at once: the pool's selector (`!claim`) stops counting it, as for any taken one.
      labels: { ...raw.metadata.labels, [LABELS.claim]: name, [LABELS.session]: name },
      annotations: {
        ...raw.metadata.annotations,
        [RESERVATION.reservedFor]: `${kind}/${name}/${token}`,
        [RESERVATION.reservedAt]: nowIso,
      },
    },
  };
}

/** Whether a leader may take `s` for the session holding reservation `r`: see the header. */
function takeable(s: Sandbox | undefined, session: SessionRef, r: SessionReservation): s is Sandbox {
  if (!s || s.metadata.deletionTimestamp || s.spec?.claimRef) return false;
  if (isReservedFor(s, session.kind, session.metadata.name ?? "", r.token)) return true;
  return s.metadata.resourceVersion === r.resourceVersion && controllerOf(s)?.kind === SANDBOX_POOL.kind;
}

async function readSandbox(ctx: ControllerContext, ns: string, name: string, signal: AbortSignal) {
  try {
    return await ctx.api.sandboxes.get(name, { namespace: ns, signal });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** What the leader does about a session's reservation (see `adoptReserved`). */
export type ReservedOutcome =
  /** No reservation, or one that can never land: provision as if there had been none. */
  | "none"
  /** Not visible yet, and the reservation's PUT is probably still in flight: look again shortly. */
  | { readonly waitMs: number }
  /** Reserved for this session: its claim takes exactly this sandbox (the claim controller's `heldBy`). */
  | { readonly reserved: Sandbox }
  /** The session holds it already (pre-adopted), e.g. taken by this call. */
  | { readonly held: Sandbox };

/**
 * How long after its creation a session's reservation is waited for: the handler answers from its PUT only
 * if that landed within the answer window (waiting for a connection included), and the session's
 * creationTimestamp has whole seconds, so an age read from it can be up to 1 s more than it is. A PUT that
 * lands later still races the leader's write for the same version, and either gives the session that
 * sandbox (see the header). Taking the sandbox any earlier races a PUT that is still in flight: in a
 * 200-session burst, where writes queue for seconds, the leader's conditional write then beat ~60
 * reservations, each a wasted write and a session no longer answered from its reservation but after the
 * whole chain of claim, adoption and status.
 */
export const RESERVATION_SETTLE_MS = RESERVATION_ANSWER_WINDOW_MS + 1_000;
/**
 * While a reservation settles: the sandbox's watch event wakes the session the moment the reservation
 * lands; this recheck only notices one that can no longer land (the sandbox taken by another).
 */
const RESERVATION_RECHECK_MS = 500;

/**
 * The leader's side of a reservation, before it creates the session's claim (see the header). The cache
 * showing it reserved for this session is enough (such a version cannot be undone but by this leader);
 * anything else is decided from the apiserver's version once the reservation had time to land: reserved
 * for the session → its claim takes it; still at the version the handler read → pre-adopted here, with a
 * write conditional on that version; else "none". Errors propagate: the caller must not provision another
 * sandbox while a reservation may still be this session's.
 */
export async function adoptReserved(
  ctx: ControllerContext,
  session: SessionRef &
    Annotated & { readonly metadata: { readonly creationTimestamp?: string | undefined } },
  labels: Record<string, string>,
  signal: AbortSignal,
): Promise<ReservedOutcome> {
  const r = reservationOf(session);
  const ns = session.metadata.namespace ?? "";
  const uid = session.metadata.uid ?? "";
  const name = session.metadata.name ?? "";
  if (!r || !uid) return "none";
  const [held] = preAdoptedFor(ctx, ns, uid);
  if (held) return { held };
  const cached = latestSandbox(ctx, ns, r.sandbox);
  if (isReservedFor(cached, session.kind, name, r.token) && cached) return { reserved: cached };
  // Taken or going (by anyone but this session): every later version is too, so the reservation, written
  // over an earlier pool-controlled version, can never land. No need to wait for it.
  if (cached && (cached.metadata.deletionTimestamp || controllerOf(cached)?.kind !== SANDBOX_POOL.kind))
    return "none";
  const age = ctx.clock.now() - (Date.parse(session.metadata.creationTimestamp ?? "") || 0);
  if (age < RESERVATION_SETTLE_MS)
    return { waitMs: Math.min(RESERVATION_RECHECK_MS, RESERVATION_SETTLE_MS - age) };
  let current = await readSandbox(ctx, ns, r.sandbox, signal);
  ctx.memo.remember(memoKey(SANDBOX.kind, ns, r.sandbox), cached, current);
  if (isReservedFor(current, session.kind, name, r.token) && current) return { reserved: current };
  ctx.adopting.sessions.add(uid);
  try {
    for (let attempt = 0; attempt < TAKE_ATTEMPTS; attempt++) {
      if (!takeable(current, session, r)) return "none";
      const next = preAdoptedBy(current, session, { ...labels, [LABELS.claim]: name });
      const taken = await takeSandbox(ctx, current, next, signal);
      if (taken) {
        ctx.bindings.bound(session, taken);
        return { held: taken };
      }
      current = await readSandbox(ctx, ns, r.sandbox, signal);
    }
    throw new Error(`reserved sandbox ${ns}/${r.sandbox} kept changing while it was taken`);
  } finally {
    ctx.adopting.sessions.delete(uid);
    ctx.kick("claim", `${ns}/${name}`);
  }
}

/** The live sandbox reserved for the session controlling a claim (named like it), if any. */
export function reservedForSession(
  ctx: ControllerContext,
  ns: string,
  kind: string,
  session: Annotated | undefined,
): Sandbox | undefined {
  const r = reservationOf(session);
  if (!r) return undefined;
  const s = latestSandbox(ctx, ns, r.sandbox);
  return isReservedFor(s, kind, session?.metadata.name ?? "", r.token) ? s : undefined;
}

/**
 * The sandbox controller's side: an unowned reservation past its grace period is deleted unless its session
 * exists (at the apiserver), carries its token, is not being deleted and holds no other sandbox; in that case
 * the session's controller is woken to take it, and the reservation is looked at again later.
 */
export async function releaseStaleReservation(
  ctx: ControllerContext,
  sbx: Sandbox,
  signal: AbortSignal,
): Promise<ReconcileResult> {
  const who = reservedSession(sbx);
  if (!who || sbx.metadata.deletionTimestamp) return undefined;
  const at = Date.parse(sbx.metadata.annotations?.[RESERVATION.reservedAt] ?? "") || 0;
  const left = at + RESERVATION_GRACE_MS - ctx.clock.now();
  if (left > 0) return { requeueAfterMs: left };
  const { namespace = "", name = "" } = sbx.metadata;
  const api = who.kind === "CodeInterpreter" ? ctx.api.codeInterpreters : ctx.api.agentSessions;
  const session = await api.get(who.name, { namespace, signal }).catch((err: unknown) => {
    if (isNotFound(err)) return undefined;
    throw err;
  });
  const r = reservationOf(session);
  const elsewhere = session?.status?.sandboxName !== undefined && session.status.sandboxName !== name;
  if (
    session &&
    !session.metadata.deletionTimestamp &&
    r?.token === who.token &&
    r.sandbox === name &&
    !elsewhere
  ) {
    ctx.kick(who.kind === "CodeInterpreter" ? "codeInterpreter" : "agentSession", `${namespace}/${who.name}`);
    return { requeueAfterMs: RESERVATION_GRACE_MS };
  }
  ctx.log.info("deleting a reservation no session will take", {
    namespace,
    sandbox: name,
    session: who.name,
  });
  // As read: a reservation the leader turned into a binding since is not deleted.
  await deleteSandboxes(ctx, [sbx], signal, true);
  return undefined;
}
