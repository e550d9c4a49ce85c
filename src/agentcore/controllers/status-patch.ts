/**
 * Writes a status only when it changed, as a JSON merge patch of the status subresource. The patch names
 * only the fields the controller owns: fields it no longer wants are sent as null, fields it does not own
 * (`lastActivityTime`, written by the activity tracker) are never sent, so the two writers cannot clobber
 * each other and no resourceVersion precondition is needed.
 */
import { deepEqual } from "../../api/schema/immutable";
import type { ResourceClient } from "../../kube/resource-client";

type StatusObject = {
  metadata?: { name?: string | undefined; namespace?: string | undefined } | undefined;
  status?: unknown;
};

export interface StatusPatchOptions {
  /** Status fields another writer owns; never sent, never nulled. */
  readonly foreign?: readonly string[];
  readonly signal?: AbortSignal;
}

/** The merge patch turning `current` into `desired`, or undefined when they already agree. */
export function statusPatch(
  current: Readonly<Record<string, unknown>> | undefined,
  desired: Readonly<Record<string, unknown>>,
  foreign: readonly string[] = [],
): Record<string, unknown> | undefined {
  const patch: Record<string, unknown> = {};
  const keys = new Set([...Object.keys(current ?? {}), ...Object.keys(desired)]);
  for (const key of keys) {
    if (foreign.includes(key)) continue;
    const want = desired[key];
    const have = current?.[key];
    if (want === undefined) {
      if (have !== undefined) patch[key] = null;
    } else if (!deepEqual(want, have)) patch[key] = want;
  }
  return Object.keys(patch).length === 0 ? undefined : patch;
}

/** Patches `obj`'s status toward `desired`; returns the updated object, or undefined when nothing changed. */
export async function patchStatusIfChanged<T extends StatusObject>(
  api: ResourceClient<T>,
  obj: T,
  desired: Readonly<Record<string, unknown>>,
  opts: StatusPatchOptions = {},
): Promise<T | undefined> {
  const patch = statusPatch(obj.status as Record<string, unknown> | undefined, desired, opts.foreign);
  if (!patch) return undefined;
  return api.patchStatus(obj.metadata?.name ?? "", {
    type: "merge",
    patch: { status: patch },
    namespace: obj.metadata?.namespace,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
}

/**
 * True when `desired` differs from `current` only in `observedGeneration` (top level and on conditions):
 * the spec moved on in a way this status does not depend on, e.g. a sandbox adopted by a claim.
 */
export function onlyGenerationMoved(
  current: Readonly<Record<string, unknown>> | undefined,
  desired: Readonly<Record<string, unknown>>,
): boolean {
  if (!current || current["observedGeneration"] === desired["observedGeneration"]) return false;
  return deepEqual(withoutGeneration(current), withoutGeneration(desired));
}

function withoutGeneration(status: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const { observedGeneration: _, conditions, ...rest } = status;
  if (!Array.isArray(conditions)) return rest;
  return {
    ...rest,
    conditions: conditions.map((c: Record<string, unknown>) => {
      const { observedGeneration: __, ...cond } = c;
      return cond;
    }),
  };
}
