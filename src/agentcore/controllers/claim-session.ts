/**
 * A claim's controlling session, and the sandbox that session already holds for it: pre-adopted by the
 * session (warm-adoption.ts) or reserved for it by the replica that created it (reservation.ts). Such a
 * claim completes a binding; it is not waiting for a pool member.
 */
import { AGENT_SESSION } from "../../api/agent-session";
import { CODE_INTERPRETER } from "../../api/code-interpreter";
import type { Sandbox } from "../../api/sandbox";
import type { SandboxClaim } from "../../api/sandbox-claim";
import { type ControllerContext, memoKey } from "./controller-context";
import { controllerOf } from "./owner-refs";
import { reservedForSession } from "./reservation";
import { preAdoptedFor } from "./warm-adoption";

/** The uid of the session controlling this claim, or "" for a standalone claim. */
export function claimSessionUid(claim: SandboxClaim): string {
  const owner = controllerOf(claim);
  return owner && (owner.kind === CODE_INTERPRETER.kind || owner.kind === AGENT_SESSION.kind)
    ? owner.uid
    : "";
}

/** The claim's controlling session as this process knows it (its uid matching the owner reference). */
export function claimSession(ctx: ControllerContext, claim: SandboxClaim) {
  const owner = controllerOf(claim);
  const ns = claim.metadata.namespace ?? "";
  const cache =
    owner?.kind === CODE_INTERPRETER.kind
      ? ctx.caches.codeInterpreters
      : owner?.kind === AGENT_SESSION.kind
        ? ctx.caches.agentSessions
        : undefined;
  if (!owner || !cache) return undefined;
  const session = ctx.memo.latest(memoKey(owner.kind, ns, owner.name), cache.get(ns, owner.name));
  return session?.metadata.uid === owner.uid ? session : undefined;
}

/** Sandboxes (as cached, unparsed) the claim's session pre-adopted or reserved for it. */
export function heldForClaim(ctx: ControllerContext, claim: SandboxClaim): Sandbox[] {
  const ns = claim.metadata.namespace ?? "";
  const reserved = reservedForSession(ctx, ns, controllerOf(claim)?.kind ?? "", claimSession(ctx, claim));
  return [...preAdoptedFor(ctx, ns, claimSessionUid(claim)), ...(reserved ? [reserved] : [])];
}
