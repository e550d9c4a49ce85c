/**
 * What CodeInterpreter and AgentSession share: provision one sandbox for the session and mirror it.
 *
 * The session owns exactly one child named like itself: a SandboxClaim in pool modes, a Sandbox in Direct
 * mode. Deterministic names make provisioning idempotent across retries, restarts and leader changes, and
 * owner references make deleting the session cascade to claim → sandbox → pod. Once the child exists the
 * session follows it, whatever happens to the runtime or defaults it was resolved from.
 *
 * Pool modes take a warm sandbox before the claim exists (pre-adoption, warm-adoption.ts): one conditional
 * write that makes the session its controller, then the claim, which completes the binding. The session
 * mirrors that sandbox from the first write on, and a create waits for two chained writes, not three.
 */
import type { KindNames } from "../../api/group";
import type { ProvisioningMode } from "../../api/provisioning";
import { LABELS, MANAGED_BY } from "../../api/reserved-keys";
import { SANDBOX, type Sandbox, sandboxKind } from "../../api/sandbox";
import { SANDBOX_CLAIM, type SandboxClaim, sandboxClaimKind } from "../../api/sandbox-claim";
import type { SandboxTemplate } from "../../api/sandbox-template";
import type { SessionStatus } from "../../api/session";
import { isAlreadyExists } from "../../kube/kube-error";
import type { ResourceClient } from "../../kube/resource-client";
import { computeSessionStatus } from "../render/session-status";
import type { ControllerContext, ReconcileResult } from "./controller-context";
import { memoKey } from "./controller-context";
import { INDEX, type ObjectCache } from "./object-cache";
import { controllerRef, isControlledBy } from "./owner-refs";
import { parsedOrUndefined } from "./parse-cached";
import { cachedTemplateHash } from "./pool-template";
import { adoptReserved, reservedForSession } from "./reservation";
import { patchStatusIfChanged } from "./status-patch";
import { preAdoptedFor, preAdoptWarm, releasePreAdopted } from "./warm-adoption";

export interface SessionObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name?: string | undefined;
    readonly namespace?: string | undefined;
    readonly uid?: string | undefined;
    readonly generation?: number | undefined;
    readonly creationTimestamp?: string | undefined;
    readonly deletionTimestamp?: string | undefined;
    readonly resourceVersion?: string | undefined;
  };
  readonly status?: SessionStatus | undefined;
}

/** How to provision a session, resolved from its spec, its runtime and agentcore's defaults. */
export interface SessionPlan {
  readonly template: SandboxTemplate;
  readonly mode: ProvisioningMode;
  /** Claim from this pool; otherwise claim by template (any pool of exactly this template). */
  readonly poolName?: string;
  readonly runtime?: string;
}

export interface SessionResolution {
  /** The session's lifetime; `expiresAt` = creation + this. */
  readonly maxSessionDurationMs: number;
  /** How to provision, or why that is not possible yet (then `blocked` says why). */
  readonly plan?: SessionPlan;
  readonly blocked?: { readonly reason: string; readonly message: string };
}

export interface SessionKindInfo<T extends SessionObject> {
  readonly names: KindNames;
  readonly api: ResourceClient<T>;
  readonly cache: ObjectCache<T>;
}

/** How long a new session may be on its way without reporting Pending (see firstPendingQuietMs). */
const FIRST_PENDING_QUIET_MS = 3_000;
/** Pending reasons that only say "on its way": a claim binding, a pod starting. */
const QUIET_REASONS: ReadonlySet<string> = new Set([
  "Provisioning",
  "Binding",
  "SandboxPending",
  "PodCreating",
  "PodNotReady",
]);

/** The session status field only the activity tracker writes. */
const FOREIGN_STATUS = ["lastActivityTime"] as const;

export function createSessionProvisioner<T extends SessionObject>(
  ctx: ControllerContext,
  kind: SessionKindInfo<T>,
) {
  const latest = <O extends object>(k: string, ns: string, name: string, cached: O | undefined) =>
    ctx.memo.latest(memoKey(k, ns, name), cached);

  function labels(session: T, plan: SessionPlan): Record<string, string> {
    return {
      [LABELS.managedBy]: MANAGED_BY,
      [LABELS.session]: session.metadata.name ?? "",
      [LABELS.sessionKind]: kind.names.kind,
      ...(plan.runtime ? { [LABELS.runtime]: plan.runtime } : {}),
    };
  }

  /** Creates the session's claim or sandbox; a number: look again in that many ms (a reservation settling). */
  async function createChild(
    session: T,
    plan: SessionPlan,
    signal: AbortSignal,
  ): Promise<number | undefined> {
    const ns = session.metadata.namespace ?? "";
    const name = session.metadata.name ?? "";
    const meta = {
      name,
      namespace: ns,
      labels: labels(session, plan),
      ownerReferences: [controllerRef(kind.names.kind, session)],
    };
    try {
      if (plan.mode === "Direct") {
        const hash = cachedTemplateHash(plan.template);
        const sbx: Sandbox = {
          apiVersion: SANDBOX.apiVersion,
          kind: SANDBOX.kind,
          metadata: { ...meta, labels: { ...meta.labels, [LABELS.templateHash]: hash } },
          spec: { sandboxTemplate: plan.template, templateHash: hash },
        };
        ctx.memo.remember(
          memoKey(SANDBOX.kind, ns, name),
          undefined,
          await ctx.api.sandboxes.create(sbx, { signal }),
        );
        ctx.kick("sandbox", `${ns}/${name}`);
      } else {
        const claim: SandboxClaim = {
          apiVersion: SANDBOX_CLAIM.apiVersion,
          kind: SANDBOX_CLAIM.kind,
          metadata: meta,
          spec: {
            ...(plan.poolName ? { poolRef: { name: plan.poolName } } : { sandboxTemplate: plan.template }),
            mode: plan.mode,
          },
        };
        // The warm sandbox first (the write a waiting create answers from, see warm-adoption.ts), then the
        // claim that completes the binding: sent together, the two writes slowed each other down.
        const ref = { kind: kind.names.kind, metadata: session.metadata };
        // Reserved by the replica that created it (reservation.ts): that sandbox and no other, whose errors
        // are retried rather than answered with another sandbox.
        const reserved = await adoptReserved(ctx, ref, meta.labels, signal);
        if (typeof reserved === "object" && "waitMs" in reserved) return reserved.waitMs;
        if (reserved === "none")
          await preAdoptWarm(ctx, ref, claim, meta.labels, signal).catch((err: unknown) => {
            if (signal.aborted) throw err;
            ctx.log.debug("pre-adoption failed; the claim binds as usual", { error: String(err) });
          });
        // Deleted meanwhile by this replica (a create answered from the pre-adoption, then deleted at once):
        // a claim now would outlive it until the garbage collector finds it.
        const key = memoKey(kind.names.kind, ns, name);
        const current = ctx.memo.latest(key, kind.cache.get(ns, name));
        if (current?.metadata.uid !== session.metadata.uid) return undefined;
        ctx.memo.remember(
          memoKey(SANDBOX_CLAIM.kind, ns, name),
          undefined,
          await ctx.api.claims.create(claim, { signal }),
        );
        ctx.kick("claim", `${ns}/${name}`);
      }
    } catch (err) {
      if (!isAlreadyExists(err)) throw err; // the cache is behind; its event brings us back
    }
    return undefined;
  }

  interface Children {
    readonly claim?: SandboxClaim;
    readonly sandbox?: Sandbox;
    /** `sandbox` is the session's own Direct sandbox (not one held for its claim). */
    readonly direct?: true;
    readonly conflict?: string;
  }

  /**
   * The sandbox the session holds before its claim does: the one it pre-adopted, if exactly one; else the
   * one reserved for it, which its create was answered with. The status says so as soon as the leader sees
   * the session, in one write, rather than a Pending one and another once the claim has bound it (two per
   * session in a burst).
   */
  function heldBeforeClaim(session: T): Sandbox | undefined {
    const ns = session.metadata.namespace ?? "";
    const held = preAdoptedFor(ctx, ns, session.metadata.uid ?? "");
    if (held.length > 1) return undefined;
    return parsedOrUndefined(sandboxKind, held[0] ?? reservedForSession(ctx, ns, kind.names.kind, session));
  }

  /** The session's claim or sandbox (whichever it has), and the sandbox a claim holds. */
  function heldBy(claimUid: string): string | undefined {
    const written = ctx.bindings.get(claimUid);
    if (written) return written;
    const held = ctx.caches.sandboxes
      .byIndex(INDEX.claimUid, claimUid)
      .filter((s) => !s.metadata.deletionTimestamp);
    return held.length === 1 ? held[0]?.metadata.name : undefined;
  }

  function children(session: T): Children {
    const ns = session.metadata.namespace ?? "";
    const name = session.metadata.name ?? "";
    const claimRaw = latest(SANDBOX_CLAIM.kind, ns, name, ctx.caches.claims.get(ns, name));
    const directRaw = latest(SANDBOX.kind, ns, name, ctx.caches.sandboxes.get(ns, name));
    const claim = parsedOrUndefined(sandboxClaimKind, claimRaw);
    if (claim && isControlledBy(claim, session)) {
      // The claim's status names its sandbox; until that write lands, the adopted sandbox itself (found by
      // its claimRef) already says it is Ready, so the session need not wait for the claim's status.
      const held = claim.status?.sandboxName ?? heldBy(claim.metadata.uid ?? "");
      const named = held
        ? parsedOrUndefined(sandboxKind, latest(SANDBOX.kind, ns, held, ctx.caches.sandboxes.get(ns, held)))
        : undefined;
      // Until the claim completes the binding, the sandbox the session pre-adopted or reserved for it.
      const sandbox = named?.spec.claimRef?.uid === claim.metadata.uid ? named : heldBeforeClaim(session);
      return { claim, ...(sandbox ? { sandbox } : {}) };
    }
    const direct = parsedOrUndefined(sandboxKind, directRaw);
    if (direct && isControlledBy(direct, session) && !direct.metadata.labels?.[LABELS.pool])
      return { sandbox: direct, direct: true };
    if (claim) return { conflict: `a SandboxClaim named ${name} belongs to something else` };
    if (direct && !isControlledBy(direct, session))
      return { conflict: `a Sandbox named ${name} belongs to something else` };
    const early = heldBeforeClaim(session);
    return early ? { sandbox: early } : {};
  }

  /**
   * Converges one session. `raw` is the object as cached (the status patch compares against it), `session`
   * its parsed form, `resolution` how it would be provisioned now.
   */
  async function reconcile(
    raw: T,
    session: T,
    resolution: SessionResolution,
    signal: AbortSignal,
  ): Promise<ReconcileResult> {
    const deleting = session.metadata.deletionTimestamp !== undefined;
    let found = children(session);
    let blocked: { reason: string; message: string; failed?: boolean } | undefined;
    let childError: unknown;
    if (found.conflict) {
      blocked = { reason: "NameConflict", message: found.conflict, failed: true };
      await releasePreAdopted(ctx, session.metadata.namespace ?? "", session.metadata.uid ?? "", signal);
    } else if (!deleting && !found.claim && !found.direct) {
      if (!resolution.plan) blocked = resolution.blocked ?? { reason: "Provisioning", message: "" };
      else {
        // A failed write is retried (thrown below), but only after the status says what the session holds:
        // a warm sandbox pre-adopted while its claim was refused serves the session all the same.
        let settling: number | undefined;
        childError = await createChild(session, resolution.plan, signal).then(
          (waitMs) => {
            settling = waitMs;
            return undefined;
          },
          (err: unknown) => err ?? new Error("creating the session's child failed"),
        );
        if (settling !== undefined) return { requeueAfterMs: settling };
        found = children(session);
      }
    }
    const status = computeSessionStatus({
      status: session.status,
      generation: session.metadata.generation,
      creationMs: Date.parse(session.metadata.creationTimestamp ?? "") || ctx.clock.now(),
      maxSessionDurationMs: resolution.maxSessionDurationMs,
      deleting,
      ...(blocked ? { blocked } : {}),
      ...(found.claim ? { claim: found.claim } : {}),
      ...(found.sandbox ? { sandbox: found.sandbox } : {}),
      nowMs: ctx.clock.now(),
    });
    const quietFor = firstPendingQuietMs(session, status);
    if (childError !== undefined && (quietFor > 0 || !found.sandbox)) throw childError;
    if (quietFor > 0) return { requeueAfterMs: quietFor };
    const before = session.status?.phase;
    const updated = await patchStatusIfChanged(kind.api, raw, status, { foreign: FOREIGN_STATUS, signal });
    if (updated) {
      ctx.memo.remember(
        memoKey(kind.names.kind, session.metadata.namespace ?? "", session.metadata.name ?? ""),
        raw,
        updated,
      );
      announce(session, before, status);
    }
    if (childError !== undefined) throw childError;
    return undefined;
  }

  /**
   * A fresh session that is simply on its way (claim binding, pod starting) gets no "Pending" status for its
   * first seconds: a warm one is Ready long before, and that first write would only delay the one that
   * matters (a status write of the same object in flight holds the next reconcile back) and cost one write
   * per session. Anything a reader acts on — blocked, exhausted pool, failure, Ready — is written at once.
   */
  function firstPendingQuietMs(session: T, status: SessionStatus): number {
    if (session.status !== undefined || status.phase !== "Pending") return 0;
    const reason = status.conditions?.find((c) => c.type === "Ready")?.reason ?? "";
    if (!QUIET_REASONS.has(reason)) return 0;
    const age = ctx.clock.now() - (Date.parse(session.metadata.creationTimestamp ?? "") || 0);
    return Math.max(0, FIRST_PENDING_QUIET_MS - age);
  }

  function announce(session: T, before: string | undefined, status: SessionStatus): void {
    if (status.phase === before) return;
    const ready = status.conditions?.find((c) => c.type === "Ready");
    if (status.phase === "Ready")
      ctx.events.record(session, "Normal", "Ready", `sandbox pod ${status.podName} is ready`);
    if (status.phase === "Failed")
      ctx.events.record(session, "Warning", ready?.reason ?? "Failed", ready?.message ?? "");
  }

  return { reconcile };
}
