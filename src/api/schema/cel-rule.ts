/**
 * Rules that Kubernetes checks with CEL (`x-kubernetes-validations`) and agentland checks in TypeScript.
 * Each rule is written once as a pair — the CEL expression for the CRD and the equivalent predicate for
 * `src/api` validation — and the agreement test runs both against the same objects, so they cannot drift.
 * A plain valibot `check` would exist only on one side; the CRD generator refuses it.
 */
import type * as v from "valibot";

/** How the apiserver words the failure (`reason` of a validation rule). */
export type CelReason =
  | "FieldValueInvalid"
  | "FieldValueForbidden"
  | "FieldValueRequired"
  | "FieldValueDuplicate";

export interface CelRuleSpec<T> {
  /** The CEL expression; `self` is the value the rule is attached to. */
  readonly rule: string;
  /** Shown by both the apiserver and `src/api` validation when the rule fails. */
  readonly message: string;
  /** A child field to blame, e.g. `.poolRef` (Kubernetes `fieldPath`, dotted keys only). */
  readonly fieldPath?: string;
  readonly reason?: CelReason;
  /** The same rule in TypeScript, on the already validated and defaulted value. */
  readonly check: (self: T) => boolean;
}

export interface CelRuleIssue<T> extends v.BaseIssue<T> {
  readonly kind: "validation";
  readonly type: "cel_rule";
  readonly expected: null;
}

export interface CelRuleAction<T> extends v.BaseValidation<T, T, CelRuleIssue<T>> {
  readonly type: "cel_rule";
  readonly reference: typeof celRule;
  readonly spec: CelRuleSpec<T>;
}

/** A rule about one value (its fields together), checked on create and on every update. */
export function celRule<T>(spec: CelRuleSpec<T>): CelRuleAction<T> {
  return {
    kind: "validation",
    type: "cel_rule",
    reference: celRule,
    async: false,
    expects: null,
    spec,
    "~run"(dataset) {
      // Like the apiserver, judge a value by its rules only once it passed its schema.
      if (dataset.typed && !dataset.issues && !spec.check(dataset.value)) {
        const issue: CelRuleIssue<T> = {
          kind: "validation",
          type: "cel_rule",
          input: dataset.value,
          expected: null,
          received: "value",
          message: spec.message,
          ...(spec.fieldPath ? { path: fieldPathItems(dataset.value, spec.fieldPath) } : {}),
        };
        const target = dataset as unknown as { issues?: v.BaseIssue<unknown>[] };
        target.issues = [...(target.issues ?? []), issue];
      }
      return dataset;
    },
  };
}

export interface TransitionRuleSpec<T> {
  /** The CEL expression; `self` is the new value and `oldSelf` the stored one. */
  readonly rule: string;
  readonly message: string;
  readonly fieldPath?: string;
  readonly reason?: CelReason;
  readonly check: (self: T, oldSelf: T) => boolean;
}

export interface TransitionRuleAction<T> extends v.BaseMetadata<T> {
  readonly type: "transition_rule";
  readonly reference: typeof transitionRule;
  readonly spec: TransitionRuleSpec<T>;
}

/**
 * A rule about an update (uses `oldSelf`), e.g. immutability. Like Kubernetes, it is evaluated only when both
 * the old and the new object have the value; `src/api/validate.ts` runs it in `validateUpdate`.
 */
export function transitionRule<T>(spec: TransitionRuleSpec<T>): TransitionRuleAction<T> {
  return { kind: "metadata", type: "transition_rule", reference: transitionRule, spec };
}

/** `.a.b` → valibot issue path items below `value`. */
function fieldPathItems(value: unknown, fieldPath: string): [v.IssuePathItem, ...v.IssuePathItem[]] {
  const keys = fieldPath.split(".").slice(1);
  const items: v.IssuePathItem[] = [];
  let current = value;
  for (const key of keys) {
    const record = (current ?? {}) as Record<string, unknown>;
    items.push({ type: "object", origin: "value", input: record, key, value: record[key] });
    current = record[key];
  }
  return items as [v.IssuePathItem, ...v.IssuePathItem[]];
}
