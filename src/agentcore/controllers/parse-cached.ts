/**
 * Parse at the edge, once per object version: informer objects are immutable snapshots, so the validated,
 * defaulted form of each is memoized by identity. Reconcilers scan many candidates per claim; re-validating
 * each one every time would cost more than the reconcile itself.
 */
import type * as v from "valibot";
import type { KindNames } from "../../api/group";
import { type ValidationResult, validateObject } from "../../api/validate";

interface KindWithSchema {
  readonly names: KindNames;
  readonly schema: v.GenericSchema;
}

const memo = new WeakMap<KindWithSchema, WeakMap<object, ValidationResult<unknown>>>();

export function parseCached<K extends KindWithSchema>(
  kind: K,
  raw: object,
): ValidationResult<v.InferOutput<K["schema"]>> {
  let byObject = memo.get(kind);
  if (!byObject) {
    byObject = new WeakMap();
    memo.set(kind, byObject);
  }
  let result = byObject.get(raw);
  if (!result) {
    result = validateObject(kind, raw);
    byObject.set(raw, result);
  }
  return result as ValidationResult<v.InferOutput<K["schema"]>>;
}

/** The parsed object, or undefined when it does not validate (callers report that on its status). */
export function parsedOrUndefined<K extends KindWithSchema>(
  kind: K,
  raw: object | undefined,
): v.InferOutput<K["schema"]> | undefined {
  if (raw === undefined) return undefined;
  const result = parseCached(kind, raw);
  return result.success ? result.value : undefined;
}

export function issuesText(result: ValidationResult<unknown>): string {
  return result.success
    ? ""
    : result.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("; ");
}
