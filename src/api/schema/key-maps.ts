/**
 * String maps keyed by Kubernetes qualified names: pod labels, annotations, node selectors. OpenAPI cannot
 * constrain map keys, so key rules are CEL rules over `self.all(k, ...)`, paired with the same regular
 * expressions in TypeScript.
 */
import * as v from "valibot";
import { isReservedKey, RESERVED_KEY_PATTERN, USER_KEY_EXCEPTION_PREFIX } from "../reserved-keys";
import { celRule } from "./cel-rule";

/** `[prefix/]name`: an optional DNS-subdomain prefix, then a name of at most 63 characters. */
export const QUALIFIED_NAME_PATTERN =
  "^([a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$";
/** 253 (prefix) + 1 (`/`) + 63 (name). */
export const QUALIFIED_NAME_MAX = 317;

export const LABEL_VALUE_PATTERN = "^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$";

const qualifiedName = new RegExp(QUALIFIED_NAME_PATTERN);

export function isQualifiedName(key: string): boolean {
  return key.length <= QUALIFIED_NAME_MAX && qualifiedName.test(key);
}

function validKeys<T extends Readonly<Record<string, unknown>>>() {
  return celRule<T>({
    rule: `self.all(k, k.size() <= ${QUALIFIED_NAME_MAX} && k.matches('${QUALIFIED_NAME_PATTERN}'))`,
    message:
      "keys must be qualified names: an optional DNS subdomain and '/', then at most 63 letters, digits, '-', '_' or '.'",
    check: (self) => Object.keys(self).every(isQualifiedName),
  });
}

function unreservedKeys<T extends Readonly<Record<string, unknown>>>() {
  return celRule<T>({
    rule: `self.all(k, !k.matches('${RESERVED_KEY_PATTERN}') || k.startsWith('${USER_KEY_EXCEPTION_PREFIX}'))`,
    message:
      "keys under agentland.fl0rencess720.app/, kubernetes.io/ and k8s.io/ are reserved (app.kubernetes.io/ is allowed)",
    reason: "FieldValueForbidden",
    check: (self) => Object.keys(self).every((k) => !isReservedKey(k)),
  });
}

export const labelValue = v.pipe(
  v.string(),
  v.maxLength(63, "must be at most 63 characters"),
  v.regex(
    new RegExp(LABEL_VALUE_PATTERN),
    "must be letters, digits, '-', '_' or '.', starting and ending alphanumeric",
  ),
  v.description(
    "A label value: at most 63 letters, digits, '-', '_' or '.', starting and ending alphanumeric.",
  ),
);

/** Labels a user adds to sandbox pods; agentland's and Kubernetes' own keys are refused. */
export function podLabels(description: string) {
  return v.pipe(
    v.record(v.string(), labelValue),
    v.maxEntries(32, "at most 32 entries"),
    validKeys(),
    unreservedKeys(),
    v.description(description),
  );
}

/** Annotations a user adds to sandbox pods; agentland's and Kubernetes' own keys are refused. */
export function podAnnotations(description: string) {
  return v.pipe(
    v.record(
      v.string(),
      v.pipe(
        v.string(),
        v.maxLength(4096, "must be at most 4096 characters"),
        v.description("An annotation value."),
      ),
    ),
    v.maxEntries(32, "at most 32 entries"),
    validKeys(),
    unreservedKeys(),
    v.description(description),
  );
}

/** Node labels a sandbox pod must land on (any key, including Kubernetes' well-known node labels). */
export function nodeSelector(description: string) {
  return v.pipe(
    v.record(v.string(), labelValue),
    v.maxEntries(32, "at most 32 entries"),
    validKeys(),
    v.description(description),
  );
}
