/**
 * Runtime validation of agentland objects with the same rules the CRDs give the apiserver: `parseObject` for
 * one object (create), `validateUpdate` for the transition rules between a stored and a new object (update).
 */
import * as v from "valibot";
import type { KindNames } from "./group";
import type { TransitionRuleSpec } from "./schema/cel-rule";
import { asNode, type SchemaNode, unwrap } from "./schema/introspect";

export interface ApiIssue {
  /** Where, in `kubectl` notation: `spec.sandboxTemplate.env[0].name`. */
  readonly path: string;
  readonly message: string;
}

export class ApiValidationError extends Error {
  override readonly name = "ApiValidationError";
  readonly code = "invalid_object";
  constructor(
    readonly kind: string,
    readonly issues: readonly ApiIssue[],
  ) {
    super(
      `invalid ${kind}: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("; ")}`,
    );
  }
}

interface KindWithSchema {
  readonly names: KindNames;
  readonly schema: v.GenericSchema;
}

export type ValidationResult<T> =
  | { readonly success: true; readonly value: T }
  | { readonly success: false; readonly issues: readonly ApiIssue[] };

/** Validates `input` as an object of `kind`, returning the defaulted value or every issue found. */
export function validateObject<K extends KindWithSchema>(
  kind: K,
  input: unknown,
): ValidationResult<v.InferOutput<K["schema"]>> {
  const result = v.safeParse(kind.schema, input);
  if (result.success) return { success: true, value: result.output as v.InferOutput<K["schema"]> };
  return { success: false, issues: result.issues.map(toApiIssue) };
}

export function parseObject<K extends KindWithSchema>(kind: K, input: unknown): v.InferOutput<K["schema"]> {
  const result = validateObject(kind, input);
  if (!result.success) throw new ApiValidationError(kind.names.kind, result.issues);
  return result.value;
}

/**
 * Checks an update of `oldObject` to `newObject`: the new object must be valid, and every transition rule
 * (immutability) must hold. Returns the issues; an empty list means the apiserver would accept the update.
 */
export function validateUpdate(kind: KindWithSchema, oldObject: unknown, newObject: unknown): ApiIssue[] {
  const next = validateObject(kind, newObject);
  if (!next.success) return [...next.issues];
  const previous = validateObject(kind, oldObject);
  if (!previous.success) throw new ApiValidationError(kind.names.kind, previous.issues);
  const issues: ApiIssue[] = [];
  checkTransitions(asNode(kind.schema), next.value, previous.value, "", issues);
  return issues;
}

function checkTransitions(
  node: SchemaNode,
  self: unknown,
  old: unknown,
  path: string,
  out: ApiIssue[],
): void {
  // Kubernetes evaluates transition rules only where both the old and the new object have a value.
  if (self === undefined || old === undefined) return;
  const { base, actions } = unwrap(node);
  for (const action of actions) {
    if (action.type !== "transition_rule") continue;
    const spec = action.spec as TransitionRuleSpec<unknown>;
    if (!spec.check(self, old))
      out.push({ path: join(path, spec.fieldPath?.slice(1) ?? ""), message: spec.message });
  }
  if (base.type !== "object" && base.type !== "strict_object" && base.type !== "loose_object") return;
  for (const [key, entry] of Object.entries(base.entries ?? {})) {
    const child = (value: unknown) => (value as Record<string, unknown>)[key];
    checkTransitions(entry, child(self), child(old), join(path, key), out);
  }
}

function join(path: string, key: string): string {
  return path && key ? `${path}.${key}` : path || key;
}

function toApiIssue(issue: v.BaseIssue<unknown>): ApiIssue {
  let path = "";
  for (const item of issue.path ?? []) {
    const key = item.key as string | number;
    path = typeof key === "number" ? `${path}[${key}]` : join(path, String(key));
  }
  return { path, message: issue.message };
}
