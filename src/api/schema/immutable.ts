/**
 * Immutability rules: CEL transition rules (`self == oldSelf`) paired with structural equality in TypeScript.
 * CEL compares lists in order and maps regardless of key order, as `deepEqual` does.
 */
import { transitionRule } from "./cel-rule";

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((item, i) => deepEqual(item, other[i]));
  }
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return (
    ka.length === kb.length &&
    ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  );
}

/** Attach to a value that may never change once set (Kubernetes evaluates it only when both exist). */
export function immutable<T>(message: string) {
  return transitionRule<T>({ rule: "self == oldSelf", message, check: deepEqual });
}

/**
 * Attach to an object: its optional field `field` may be neither added, removed nor changed. A rule on the
 * field itself would not catch adding or removing it, since transition rules need both old and new values.
 */
export function immutableField<T extends object>(field: keyof T & string) {
  return transitionRule<T>({
    rule: `has(self.${field}) == has(oldSelf.${field}) && (!has(self.${field}) || self.${field} == oldSelf.${field})`,
    message: `${field} is immutable`,
    fieldPath: `.${field}`,
    check: (self, old) => deepEqual(self[field], old[field]),
  });
}

/** Attach to an object: its optional field `field` may be set once, then never changed or removed. */
export function setOnceField<T extends object>(field: keyof T & string) {
  return transitionRule<T>({
    rule: `!has(oldSelf.${field}) || (has(self.${field}) && self.${field} == oldSelf.${field})`,
    message: `${field} cannot be changed or removed once set`,
    fieldPath: `.${field}`,
    check: (self, old) => old[field] === undefined || deepEqual(self[field], old[field]),
  });
}
