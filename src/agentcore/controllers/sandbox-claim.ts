/**
 * SandboxClaim: holds exactly one Sandbox.
 *
 * Warm adoption is one conditional write: a PUT of the candidate as read, carrying its resourceVersion, that
 * sets `spec.claimRef`, moves the controller reference from the pool to the claim and adds the claim label.
 * Of two claims racing for one sandbox, the apiserver accepts exactly one write; the other gets Conflict and
 * moves on to the next candidate (and the CRD refuses to change a claimRef once set, a second fence).
 *
 * Candidates: a claim by template takes only from pools built from exactly that template (hash match); a
 * claim by poolRef takes the pool's current-template sandboxes first and, during a template rollout, the
 * old-template ones the pool still keeps warm (they are that pool's capacity until replaced).
 *
 * A claim of a pool-mode session may find its sandbox already taken for it: pre-adopted by its session
 * (controlled by the session's uid, no claimRef; see warm-adoption.ts). It completes that binding with the
 * same adoption write, and waits while the session's pre-adoption is in flight in this process.
 *
 * No warm candidate: PoolPreferred creates its own Sandbox at once (named like the claim, so retries and a
 * restarted controller converge on the same object); PoolRequired waits with reason PoolExhausted and is
 * woken when a pool member becomes available. When PoolRequired claims are waiting for as many warm
 * sandboxes as are left, a PoolPreferred claim leaves those to them and starts its own.
 */
import { AGENT_SESSION } from "../../api/agent-session";
import { CODE_INTERPRETER } from "../../api/code-interpreter";
import { LABELS, MANAGED_BY } from "../../api/reserved-keys";
import { SANDBOX, type Sandbox, sandboxKind } from "../../api/sandbox";
import { SANDBOX_CLAIM, type SandboxClaim, sandboxClaimKind } from "../../api/sandbox-claim";
import { isAlreadyExists, isNotFound } from "../../kube/kube-error";
import { computeClaimStatus, type Unbound } from "../render/claim-status";
import { rfc3339 } from "../render/conditions";
import { claimSession, claimSessionUid, heldForClaim } from "./claim-session";
import { type ClaimSource, claimSource, provenance, rank, requiredWaiting } from "./claim-source";
import {
  type ControllerContext,
  memoKey,
  type ReconcileResult,
  type Reconciler,
  splitNamespaced,
} from "./controller-context";
import { INDEX } from "./object-cache";
import { controllerOf, controllerRef } from "./owner-refs";
import { parseCached, parsedOrUndefined } from "./parse-cached";
import { isReservedFor } from "./reservation";
import { reservationOf } from "./reservation-annotation";
import { patchStatusIfChanged } from "./status-patch";
import {
  claimedBy,
  deleteSandboxes,
  isPreAdoptedBy,
  latestSandbox,
  takeSandbox,
  warmCandidates,
} from "./warm-adoption";

/** How soon a claim looks again while its session's pre-adoption is decided or its sandbox went away. */
const PRE_ADOPTION_WAIT_MS = 1_000;

export function createSandboxClaimReconciler(ctx: ControllerContext): Reconciler {
  const sandboxKey = (ns: string, name: string) => memoKey(SANDBOX.kind, ns, name);

  /**
   * Every live sandbox this claim holds (normally one): those whose claimRef names it, and those its
   * session pre-adopted for it (controlled by the session that controls this claim, no claimRef yet).
   */
  function heldBy(claim: SandboxClaim): Sandbox[] {
    const ns = claim.metadata.namespace ?? "";
    const uid = claim.metadata.uid ?? "";
    const names = new Set(
      ctx.caches.sandboxes.byIndex(INDEX.claimUid, uid).map((s) => s.metadata.name ?? ""),
    );
    if (claim.status?.sandboxName) names.add(claim.status.sandboxName);
    const remembered = ctx.bindings.get(uid);
    if (remembered) names.add(remembered);
    const out: Sandbox[] = [];
    for (const name of names) {
      const sbx = parsedOrUndefined(sandboxKind, latestSandbox(ctx, ns, name));
      if (sbx && sbx.spec.claimRef?.uid === uid && !sbx.metadata.deletionTimestamp) out.push(sbx);
    }
    for (const raw of heldForClaim(ctx, claim)) {
      const sbx = parsedOrUndefined(sandboxKind, raw);
      if (sbx && !out.some((o) => o.metadata.uid === sbx.metadata.uid)) out.push(sbx);
    }
    return out;
  }

  async function createCold(
    claim: SandboxClaim,
    src: Extract<ClaimSource, { ok: true }>,
    signal: AbortSignal,
  ): Promise<Sandbox | Unbound> {
    const ns = claim.metadata.namespace ?? "";
    const name = claim.metadata.name ?? "";
    const sbx: Sandbox = {
      apiVersion: SANDBOX.apiVersion,
      kind: SANDBOX.kind,
      metadata: {
        name,
        namespace: ns,
        labels: {
          ...provenance(claim),
          [LABELS.managedBy]: MANAGED_BY,
          [LABELS.claim]: name,
          [LABELS.templateHash]: src.hash,
          ...(src.runtime ? { [LABELS.runtime]: src.runtime } : {}),
        },
        ownerReferences: [controllerRef(SANDBOX_CLAIM.kind, claim)],
      },
      spec: {
        sandboxTemplate: src.template,
        templateHash: src.hash,
        claimRef: { name, uid: claim.metadata.uid ?? "" },
      },
    };
    try {
      const created = await ctx.api.sandboxes.create(sbx, { signal });
      ctx.memo.remember(sandboxKey(ns, name), undefined, created);
      return created;
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      const existing = await ctx.api.sandboxes.get(name, { namespace: ns, signal });
      if (existing.spec?.claimRef?.uid === claim.metadata.uid) return existing;
      return {
        reason: "NameConflict",
        message: `a Sandbox named ${name} belongs to something else`,
        failed: true,
      };
    }
  }

  async function bind(claim: SandboxClaim, signal: AbortSignal): Promise<Sandbox | Unbound> {
    const src = claimSource(claim, ctx.caches);
    if (!src.ok) return src.unbound;
    let found = warmCandidates(ctx, claim.metadata.namespace ?? "", src);
    // The last warm sandboxes go to claims that can take nothing else: a PoolPreferred claim starts its
    // own sandbox now either way, while a PoolRequired one left without would wait for a whole refill.
    if (
      claim.spec.mode === "PoolPreferred" &&
      found.length > 0 &&
      found.length <= requiredWaiting(claim, ctx)
    )
      found = [];
    for (const candidate of found) {
      const adopted = await takeSandbox(ctx, candidate, claimedBy(candidate, claim), signal);
      if (adopted) return adopted;
    }
    if (claim.spec.mode === "PoolRequired")
      return { reason: "PoolExhausted", message: "waiting for a warm sandbox from the pool" };
    return createCold(claim, src, signal);
  }

  async function reconcile(key: string, signal: AbortSignal): Promise<ReconcileResult> {
    const { namespace, name } = splitNamespaced(key);
    const raw = ctx.memo.latest(
      memoKey(SANDBOX_CLAIM.kind, namespace, name),
      ctx.caches.claims.get(namespace, name),
    );
    if (!raw || raw.metadata.deletionTimestamp) return forgetClaim(raw);
    const parsed = parseCached(sandboxClaimKind, raw);
    if (!parsed.success) return undefined;
    const claim = parsed.value;
    const uid = claim.metadata.uid ?? "";
    // Its session is taking a warm sandbox for it right now; the provisioner kicks this claim once that
    // write is decided (the requeue only covers a lost kick).
    if (ctx.adopting.sessions.has(claimSessionUid(claim))) return { requeueAfterMs: PRE_ADOPTION_WAIT_MS };
    // A claim written just as its session was deleted: the garbage collector removes it; a sandbox taken
    // for it now would only go the same way.
    if (sessionGone(claim)) return undefined;
    const held = heldBy(claim);
    // More than one (a cold create raced an adoption before a restart, or a pre-adoption by a restarted
    // leader's session controller): keep one, release the rest.
    const [keep, ...extra] = rank(held, claim.status?.sandboxName);
    await deleteExtra(extra, signal);
    let bound: Sandbox | undefined = keep;
    if (keep && !keep.spec.claimRef) {
      bound = await complete(claim, keep, signal);
      if (!bound) return { requeueAfterMs: PRE_ADOPTION_WAIT_MS }; // gone meanwhile: look again
    }
    let unbound: Unbound = { reason: "Binding", message: "looking for a sandbox" };
    if (!bound && claim.status?.sandboxName) {
      unbound = {
        reason: "SandboxDeleted",
        message: `sandbox ${claim.status.sandboxName} was deleted`,
        failed: true,
      };
    } else if (!bound) {
      const result = await bind(claim, signal);
      if ("reason" in result) unbound = result;
      else {
        bound = parsedOrUndefined(sandboxKind, result);
        ctx.bindings.bound(claim, result);
        const adopted = result.metadata.labels?.[LABELS.pool] !== undefined;
        const how = adopted ? "took warm sandbox" : "created sandbox";
        ctx.events.record(claim, "Normal", "Bound", `${how} ${result.metadata.name}`);
        // An adopted sandbox is Ready already: its session can mirror it now, while this claim's status is
        // written. A new one needs its pod first.
        if (adopted) kickOwner(claim);
        else ctx.kick("sandbox", `${namespace}/${result.metadata.name}`);
      }
    }
    const status = computeClaimStatus(claim, bound, unbound, rfc3339(ctx.clock.now()));
    const wasExhausted =
      claim.status?.conditions?.find((c) => c.type === "Bound")?.reason === "PoolExhausted";
    const updated = await patchStatusIfChanged(ctx.api.claims, raw, status, { signal });
    if (updated) {
      ctx.memo.remember(memoKey(SANDBOX_CLAIM.kind, namespace, name), raw, updated);
      kickOwner(claim);
      if (!wasExhausted && unbound.reason === "PoolExhausted" && !bound)
        ctx.events.record(claim, "Normal", "PoolExhausted", unbound.message);
    }
    if (bound && status.sandboxName) ctx.bindings.delete(uid);
    return undefined;
  }

  /**
   * Its session pre-adopted `sbx` for this claim: the ordinary adoption write (claimRef, controller
   * reference to the claim) completes the binding. Nobody else can take it (no pool controls it), so a
   * Conflict only means a status write moved its resourceVersion: read it again and retry. Undefined when
   * it is no longer this session's pre-adopted sandbox (deleted, or the session gone).
   */
  async function complete(
    claim: SandboxClaim,
    sbx: Sandbox,
    signal: AbortSignal,
  ): Promise<Sandbox | undefined> {
    const { namespace = "", name = "" } = sbx.metadata;
    let raw: Sandbox | undefined = sbx;
    for (let attempt = 0; raw && attempt < 3; attempt++) {
      const taken = await takeSandbox(ctx, raw, claimedBy(raw, claim), signal);
      if (taken) {
        ctx.bindings.bound(claim, taken);
        ctx.events.record(claim, "Normal", "Bound", `took warm sandbox ${name} (pre-adopted by its session)`);
        kickOwner(claim);
        return parsedOrUndefined(sandboxKind, taken);
      }
      const fresh = await ctx.api.sandboxes.get(name, { namespace, signal }).catch((err: unknown) => {
        if (isNotFound(err)) return undefined;
        throw err;
      });
      const session = claimSession(ctx, claim);
      const r = reservationOf(session);
      const reservedForIt =
        r !== undefined &&
        isReservedFor(fresh, controllerOf(claim)?.kind ?? "", claim.metadata.name ?? "", r.token);
      raw = isPreAdoptedBy(fresh, claimSessionUid(claim)) || reservedForIt ? fresh : undefined;
    }
    if (raw) throw new Error(`sandbox ${namespace}/${name} kept changing while its binding was completed`);
    return undefined;
  }

  /** The claim's controlling session is no longer there (as this process knows it) or is being deleted. */
  function sessionGone(claim: SandboxClaim): boolean {
    if (!claimSessionUid(claim)) return false; // a standalone claim
    const session = claimSession(ctx, claim);
    return !session || session.metadata.deletionTimestamp !== undefined;
  }

  /** The session mirroring this claim. */
  function kickOwner(claim: SandboxClaim): void {
    const owner = controllerOf(claim);
    const controller =
      owner?.kind === CODE_INTERPRETER.kind
        ? "codeInterpreter"
        : owner?.kind === AGENT_SESSION.kind
          ? "agentSession"
          : undefined;
    if (owner && controller) ctx.kick(controller, `${claim.metadata.namespace}/${owner.name}`);
  }

  function forgetClaim(raw: SandboxClaim | undefined): ReconcileResult {
    if (raw?.metadata.uid) ctx.bindings.delete(raw.metadata.uid);
    return undefined;
  }

  async function deleteExtra(extra: readonly Sandbox[], signal: AbortSignal): Promise<void> {
    for (const { metadata } of extra)
      ctx.log.warn("releasing a second sandbox held by one claim", {
        namespace: metadata.namespace,
        sandbox: metadata.name,
      });
    await deleteSandboxes(ctx, extra, signal);
  }

  return { reconcile };
}
