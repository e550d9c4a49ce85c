/**
 * Field builders shared by the kinds. Each returns a plain valibot schema with its description and limits,
 * so the CRD generator and runtime validation read the same definition. Every string, list and map is
 * bounded: CEL rules over unbounded values would exceed the apiserver's cost budget, and the bounds are what
 * a user gets told instead of an opaque failure later at Pod creation.
 */
import * as v from "valibot";
import { celRule } from "./cel-rule";
import { DURATION_PATTERN, parseDurationNs } from "./duration";

/** Extra OpenAPI keywords that have no valibot equivalent. */
export interface OpenApiExtras {
  readonly format?: "int32" | "int64" | "date-time";
}

export function openapi<T>(extras: OpenApiExtras): v.MetadataAction<T, { readonly openapi: OpenApiExtras }> {
  return v.metadata({ openapi: extras });
}

export const DNS_LABEL_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
export const DNS_SUBDOMAIN_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";

/**
 * The name of an agentland object (or of a Kubernetes object agentland names): a DNS subdomain of at most 63
 * characters, because agentland copies object names into label values, which Kubernetes caps at 63.
 */
export function objectName(description: string) {
  return v.pipe(
    v.string(),
    v.regex(new RegExp(DNS_SUBDOMAIN_PATTERN), "must be lowercase letters, digits, '-' and '.'"),
    v.minLength(1, "must not be empty"),
    v.maxLength(63, "must be at most 63 characters"),
    v.description(description),
  );
}

/** A namespace name: a DNS label (RFC 1123). */
export function namespaceName(description: string) {
  return v.pipe(
    v.string(),
    v.regex(new RegExp(DNS_LABEL_PATTERN), "must be lowercase letters, digits and '-'"),
    v.minLength(1, "must not be empty"),
    v.maxLength(63, "must be at most 63 characters"),
    v.description(description),
  );
}

export function boundedString(description: string, maxLength: number) {
  return v.pipe(
    v.string(),
    v.maxLength(maxLength, `must be at most ${maxLength} characters`),
    v.description(description),
  );
}

export function nonEmptyString(description: string, maxLength: number) {
  return v.pipe(
    v.string(),
    v.minLength(1, "must not be empty"),
    v.maxLength(maxLength, `must be at most ${maxLength} characters`),
    v.description(description),
  );
}

export function int32(description: string, min: number, max = 2_147_483_647) {
  return v.pipe(
    v.number(),
    v.integer("must be a whole number"),
    v.minValue(min, `must be at least ${min}`),
    v.maxValue(max, `must be at most ${max}`),
    openapi({ format: "int32" }),
    v.description(description),
  );
}

export function int64(description: string, min: number) {
  return v.pipe(
    v.number(),
    v.integer("must be a whole number"),
    v.minValue(min, `must be at least ${min}`),
    openapi({ format: "int64" }),
    v.description(description),
  );
}

const RFC3339 =
  /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$/;

/** A point in time as Kubernetes writes it (RFC 3339, e.g. `2025-01-02T03:04:05Z`). */
export function timestamp(description: string) {
  return v.pipe(
    v.string(),
    v.regex(RFC3339, "must be an RFC 3339 timestamp"),
    openapi({ format: "date-time" }),
    v.description(description),
  );
}

export interface DurationBounds {
  /** Inclusive bounds, themselves durations, e.g. `30s` and `24h`. */
  readonly min: string;
  readonly max: string;
}

/** A duration such as `15m` or `1h30m` within bounds, checked by CEL's `duration()` on the apiserver. */
export function duration(description: string, bounds: DurationBounds) {
  const minNs = parseDurationNs(bounds.min) as number;
  const maxNs = parseDurationNs(bounds.max) as number;
  return v.pipe(
    v.string(),
    v.maxLength(32, "must be at most 32 characters"),
    v.regex(new RegExp(DURATION_PATTERN), "must be a duration such as 30s, 15m, 2h or 1h30m"),
    celRule({
      // A malformed duration is the pattern's to report; without the guard CEL adds a conversion error.
      rule:
        `!self.matches('${DURATION_PATTERN}') || ` +
        `(duration(self) >= duration('${bounds.min}') && duration(self) <= duration('${bounds.max}'))`,
      message: `must be between ${bounds.min} and ${bounds.max}`,
      check: (self) => {
        const ns = parseDurationNs(self);
        return ns === undefined || (ns >= minNs && ns <= maxNs);
      },
    }),
    v.description(
      `${description} A duration such as 30s, 15m or 1h30m, from ${bounds.min} to ${bounds.max}.`,
    ),
  );
}

/** Kubernetes resource quantity syntax (apimachinery's), without a sign: sandboxes never request negatives. */
export const QUANTITY_PATTERN =
  "^(([0-9]+([.][0-9]*)?)|([.][0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE][+-]?(([0-9]+([.][0-9]*)?)|([.][0-9]+))))?$";

/**
 * A resource quantity (`500m`, `1`, `2Gi`); YAML users write both `cpu: 1` and `cpu: "1"`, so like a Pod's
 * resources it is an int-or-string.
 */
export function quantity(description: string) {
  return v.pipe(
    v.union(
      [
        v.pipe(v.number(), v.integer(), v.minValue(0)),
        v.pipe(v.string(), v.maxLength(64), v.regex(new RegExp(QUANTITY_PATTERN))),
      ],
      "must be a quantity such as 500m, 1, 256Mi or 2Gi",
    ),
    v.description(description),
  );
}
