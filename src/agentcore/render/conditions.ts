/**
 * Conditions as Kubernetes' `meta.SetStatusCondition` treats them: one per type; `lastTransitionTime` moves
 * only when the status flips, so recomputing an unchanged condition yields an identical object and a
 * reconcile of a converged object writes nothing.
 */
import type { Condition, ConditionStatus } from "../../api/condition";

export interface DesiredCondition {
  readonly type: string;
  readonly status: ConditionStatus;
  readonly reason: string;
  readonly message: string;
}

export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === "True";
}

/**
 * Returns `conditions` with `desired` set: other types are kept in place, an existing condition of the type
 * keeps its transition time unless its status changes. `now` is an RFC 3339 timestamp.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  desired: DesiredCondition,
  now: string,
  observedGeneration?: number,
): Condition[] {
  const list = [...(conditions ?? [])];
  const index = list.findIndex((c) => c.type === desired.type);
  const previous = index === -1 ? undefined : list[index];
  const next: Condition = {
    type: desired.type,
    status: desired.status,
    ...(observedGeneration === undefined ? {} : { observedGeneration }),
    lastTransitionTime: previous && previous.status === desired.status ? previous.lastTransitionTime : now,
    reason: desired.reason,
    // The CRD caps messages at 32768 characters; a pod's termination message can be longer.
    message: desired.message.slice(0, 32_768),
  };
  if (index === -1) list.push(next);
  else list[index] = next;
  return list;
}

/** Kubernetes timestamps have second precision on the wire for metav1.Time. */
export function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}
