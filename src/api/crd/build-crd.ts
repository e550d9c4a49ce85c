/**
 * Builds the CustomResourceDefinition of a kind from its definition in `src/api`: names, subresources,
 * printer columns, and the OpenAPI schema converted from the kind's valibot schemas.
 */
import { CATEGORY } from "../group";
import type { KindDefinition } from "../kind";
import type { CelRuleSpec } from "../schema/cel-rule";
import { asNode, unpipe } from "../schema/introspect";
import { type OpenApiSchema, toOpenApi, type ValidationRule } from "./to-openapi";

export const PART_OF_LABEL = { "app.kubernetes.io/part-of": "agentland" } as const;

export function crdName(kind: KindDefinition): string {
  return `${kind.names.plural}.${kind.names.group}`;
}

export function buildCrd(kind: KindDefinition) {
  const { names } = kind;
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: crdName(kind), labels: { ...PART_OF_LABEL } },
    spec: {
      group: names.group,
      names: {
        kind: names.kind,
        listKind: names.listKind,
        plural: names.plural,
        singular: names.singular,
        shortNames: [...names.shortNames],
        categories: [CATEGORY],
      },
      scope: "Namespaced",
      versions: [
        {
          name: names.version,
          served: true,
          storage: true,
          subresources: { status: {}, ...(kind.scale ? { scale: { ...kind.scale } } : {}) },
          additionalPrinterColumns: kind.printerColumns.map((c) => ({ ...c })),
          schema: { openAPIV3Schema: readableOrder(rootSchema(kind)) },
        },
      ],
    },
  };
}

function rootSchema(kind: KindDefinition): OpenApiSchema {
  const at = kind.names.kind;
  const rules = rootRules(kind);
  return {
    type: "object",
    description: kind.description,
    required: ["spec"],
    properties: {
      apiVersion: {
        type: "string",
        description: `The versioned schema of this object: ${kind.names.apiVersion}.`,
      },
      kind: { type: "string", description: `The kind of this object: ${kind.names.kind}.` },
      metadata: { type: "object" },
      spec: toOpenApi(kind.spec, `${at}.spec`),
      status: toOpenApi(kind.status, `${at}.status`),
    },
    ...(rules.length > 0 ? { "x-kubernetes-validations": rules } : {}),
  };
}

/** CEL rules on the whole object (the pipe of the kind's full schema), e.g. the name length limit. */
function rootRules(kind: KindDefinition): ValidationRule[] {
  return unpipe(asNode(kind.schema)).actions.flatMap((action) => {
    if (action.type !== "cel_rule") return [];
    const spec = action.spec as CelRuleSpec<never>;
    return [
      { rule: spec.rule, message: spec.message, ...(spec.fieldPath ? { fieldPath: spec.fieldPath } : {}) },
    ];
  });
}

/** Keys every schema node lists first, so a reader sees what a field is before its details. */
const LEADING_KEYS = ["type", "description", "default", "enum", "format", "required"];

/** Re-orders schema keys for reading (`type`, `description`, … first, then as generated); values unchanged. */
function readableOrder<T>(node: T): T {
  if (Array.isArray(node)) return node.map(readableOrder) as T;
  if (typeof node !== "object" || node === null) return node;
  const entries = Object.entries(node);
  const rank = (key: string) => {
    const i = LEADING_KEYS.indexOf(key);
    return i === -1 ? LEADING_KEYS.length : i;
  };
  entries.sort(([a], [b]) => rank(a) - rank(b));
  const isPropertyMap = (key: string) => key === "properties";
  return Object.fromEntries(
    entries.map(([key, value]) => [
      key,
      isPropertyMap(key)
        ? Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, readableOrder(v)]))
        : readableOrder(value),
    ]),
  ) as T;
}
