/**
 * What a SandboxClaim's status should say. `Bound` is True once a sandbox is held (warm or cold); `Ready`
 * mirrors that sandbox's readiness, so `kubectl wait --for=condition=Ready sbxc/x` means "usable".
 */
import type { Condition } from "../../api/condition";
import { LABELS } from "../../api/reserved-keys";
import type { Sandbox } from "../../api/sandbox";
import type { SandboxClaim } from "../../api/sandbox-claim";
import { setCondition } from "./conditions";

export type ClaimStatus = NonNullable<SandboxClaim["status"]>;

export interface Unbound {
  readonly reason: string;
  readonly message: string;
  /** The claim can never bind (e.g. its sandbox was deleted): phase Failed rather than Pending. */
  readonly failed?: boolean;
}

export function computeClaimStatus(
  claim: SandboxClaim,
  bound: Sandbox | undefined,
  unbound: Unbound,
  now: string,
): ClaimStatus {
  const generation = claim.metadata.generation;
  const gen = generation === undefined ? {} : { observedGeneration: generation };
  let conditions: Condition[] | undefined = claim.status?.conditions;
  if (!bound) {
    conditions = setCondition(conditions, { type: "Bound", status: "False", ...unbound }, now, generation);
    conditions = setCondition(conditions, { type: "Ready", status: "False", ...unbound }, now, generation);
    return { phase: unbound.failed ? "Failed" : "Pending", conditions, ...gen };
  }
  const name = bound.metadata.name ?? "";
  const warm = bound.metadata.labels?.[LABELS.pool];
  conditions = setCondition(
    conditions,
    warm
      ? {
          type: "Bound",
          status: "True",
          reason: "Adopted",
          message: `took warm sandbox ${name} from pool ${warm}`,
        }
      : { type: "Bound", status: "True", reason: "Created", message: `created sandbox ${name}` },
    now,
    generation,
  );
  const ready = bound.status?.conditions?.find((c) => c.type === "Ready");
  conditions = setCondition(
    conditions,
    {
      type: "Ready",
      status: ready?.status ?? "False",
      reason: ready?.reason ?? "SandboxPending",
      message: ready?.message ?? "waiting for the sandbox to report",
    },
    now,
    generation,
  );
  const s = bound.status ?? {};
  return {
    phase: s.phase === "Failed" ? "Failed" : "Bound",
    sandboxName: name,
    ...(s.podName ? { podName: s.podName } : {}),
    ...(s.podIP ? { podIP: s.podIP } : {}),
    ...(s.port ? { port: s.port } : {}),
    conditions,
    ...gen,
  };
}
