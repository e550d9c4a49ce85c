/**
 * What a session's (CodeInterpreter / AgentSession) status should say, from its claim and sandbox. The
 * gateway proxies only to the pod this status names once `Ready` is True. `lastActivityTime` belongs to the
 * activity tracker and is never computed here.
 */
import type { Condition } from "../../api/condition";
import type { Sandbox } from "../../api/sandbox";
import type { SandboxClaim } from "../../api/sandbox-claim";
import type { SessionPhase, SessionStatus } from "../../api/session";
import { rfc3339, setCondition } from "./conditions";

export interface SessionObservation {
  readonly status: SessionStatus | undefined;
  readonly generation: number | undefined;
  readonly creationMs: number;
  readonly maxSessionDurationMs: number;
  readonly deleting: boolean;
  /** Why no claim or sandbox can be made yet (runtime missing, name taken, …). */
  readonly blocked?: { readonly reason: string; readonly message: string; readonly failed?: boolean };
  readonly claim?: SandboxClaim;
  readonly sandbox?: Sandbox;
  readonly nowMs: number;
}

interface Verdict {
  readonly phase: SessionPhase;
  readonly reason: string;
  readonly message: string;
}

function judge(o: SessionObservation): Verdict {
  if (o.deleting)
    return { phase: "Terminating", reason: "Terminating", message: "the session is being deleted" };
  if (o.blocked) return { phase: o.blocked.failed ? "Failed" : "Pending", ...o.blocked };
  const sandboxReady = ready(o.sandbox?.status?.conditions);
  if (o.sandbox?.status?.phase === "Failed")
    return {
      phase: "Failed",
      reason: sandboxReady?.reason ?? "SandboxFailed",
      message: sandboxReady?.message ?? "",
    };
  const bound = o.claim?.status?.conditions?.find((c) => c.type === "Bound");
  if (o.claim?.status?.phase === "Failed" && !o.sandbox)
    return { phase: "Failed", reason: bound?.reason ?? "ClaimFailed", message: bound?.message ?? "" };
  if (o.sandbox && o.sandbox.status?.phase === "Ready")
    return { phase: "Ready", reason: "SandboxReady", message: `sandbox ${o.sandbox.metadata.name} is ready` };
  if (o.sandbox)
    return {
      phase: "Pending",
      reason: sandboxReady?.reason ?? "SandboxPending",
      message: sandboxReady?.message ?? "waiting for the sandbox",
    };
  if (o.claim && bound) return { phase: "Pending", reason: bound.reason, message: bound.message };
  return { phase: "Pending", reason: "Provisioning", message: "provisioning a sandbox" };
}

export function computeSessionStatus(o: SessionObservation): SessionStatus {
  const verdict = judge(o);
  const now = rfc3339(o.nowMs);
  const current = o.status ?? {};
  const conditions = setCondition(
    current.conditions,
    {
      type: "Ready",
      status: verdict.phase === "Ready" ? "True" : "False",
      reason: verdict.reason,
      message: verdict.message,
    },
    now,
    o.generation,
  );
  const s = o.sandbox?.status ?? {};
  const startTime = current.startTime ?? (verdict.phase === "Ready" ? now : undefined);
  return {
    phase: verdict.phase,
    conditions,
    ...(o.generation === undefined ? {} : { observedGeneration: o.generation }),
    ...(o.sandbox?.metadata.name ? { sandboxName: o.sandbox.metadata.name } : {}),
    ...(o.claim?.metadata.name ? { claimName: o.claim.metadata.name } : {}),
    ...(s.podName ? { podName: s.podName } : {}),
    ...(s.podIP ? { podIP: s.podIP } : {}),
    ...(s.port ? { port: s.port } : {}),
    ...(startTime ? { startTime } : {}),
    expiresAt: rfc3339(o.creationMs + o.maxSessionDurationMs),
  };
}

function ready(conditions: readonly Condition[] | undefined): Condition | undefined {
  return conditions?.find((c) => c.type === "Ready");
}
