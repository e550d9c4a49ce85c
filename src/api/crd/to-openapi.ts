/**
 * Turns a valibot schema from `src/api` into a Kubernetes structural OpenAPI v3 schema for a CRD.
 *
 * Only the constructs whose meaning both sides share are accepted: objects, strings, integers, numbers,
 * booleans, picklists, arrays, string-keyed records, int-or-string unions, and the actions that map onto
 * OpenAPI keywords or CEL rules. Anything else (a plain `check`, a transform, an unknown action) throws, so
 * runtime validation can never silently be stricter or looser than the apiserver. Every property must carry a
 * description: that is what `kubectl explain` shows.
 */
import type * as v from "valibot";
import type { CelRuleSpec, TransitionRuleSpec } from "../schema/cel-rule";
import { type SchemaNode as Node, unpipe } from "../schema/introspect";

export interface ValidationRule {
  rule: string;
  message: string;
  fieldPath?: string;
  reason?: string;
}

/** The subset of `JSONSchemaProps` agentland's CRDs use. */
export interface OpenApiSchema {
  type?: "object" | "array" | "string" | "integer" | "number" | "boolean";
  description?: string;
  format?: string;
  default?: unknown;
  enum?: string[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  properties?: Record<string, OpenApiSchema>;
  required?: string[];
  items?: OpenApiSchema;
  additionalProperties?: OpenApiSchema;
  anyOf?: OpenApiSchema[];
  "x-kubernetes-int-or-string"?: true;
  "x-kubernetes-preserve-unknown-fields"?: true;
  "x-kubernetes-list-type"?: "atomic" | "set" | "map";
  "x-kubernetes-list-map-keys"?: string[];
  "x-kubernetes-validations"?: ValidationRule[];
}

export class SchemaConversionError extends Error {
  override readonly name = "SchemaConversionError";
}

/** Converts `schema`; `at` names its location in error messages (e.g. `CodeInterpreter.spec`). */
export function toOpenApi(schema: v.GenericSchema, at: string): OpenApiSchema {
  const { base, actions } = unpipe(schema as unknown as Node);
  const out = convertBase(base, at);
  for (const action of actions) applyAction(out, action, at);
  return out;
}

function convertBase(node: Node, at: string): OpenApiSchema {
  switch (node.type) {
    case "object":
    case "strict_object":
      return convertObject(node, at);
    case "loose_object":
      return { ...convertObject(node, at), "x-kubernetes-preserve-unknown-fields": true };
    case "string":
      return { type: "string" };
    case "number":
      return { type: "number" };
    case "boolean":
      return { type: "boolean" };
    case "picklist":
      return { type: "string", enum: (node.options ?? []).map((o) => stringOption(o, at)) };
    case "array":
      return { type: "array", items: toOpenApi(node.item as unknown as v.GenericSchema, `${at}[]`) };
    case "record":
      return convertRecord(node, at);
    case "union":
      return convertIntOrString(node, at);
    default:
      throw new SchemaConversionError(`${at}: valibot "${node.type}" has no CRD equivalent`);
  }
}

function convertObject(node: Node, at: string): OpenApiSchema {
  const properties: Record<string, OpenApiSchema> = {};
  const required: string[] = [];
  for (const [key, entry] of Object.entries(node.entries ?? {})) {
    const path = `${at}.${key}`;
    const { base, actions } = unpipe(entry);
    let prop: OpenApiSchema;
    if (base.type === "optional") {
      prop = toOpenApi(base.wrapped as unknown as v.GenericSchema, path);
      if (base.default !== undefined) prop.default = checkedDefault(base.default, path);
    } else {
      prop = convertBase(base, path);
      required.push(key);
    }
    for (const action of actions) applyAction(prop, action, path);
    if (!prop.description) throw new SchemaConversionError(`${path}: every field needs a description`);
    properties[key] = prop;
  }
  return { type: "object", properties, ...(required.length > 0 ? { required } : {}) };
}

function convertRecord(node: Node, at: string): OpenApiSchema {
  const key = node.key as Node;
  if (key.type !== "string" || key.pipe) {
    throw new SchemaConversionError(`${at}: record keys must be plain strings; check keys with a celRule`);
  }
  const value = toOpenApi(node.value as unknown as v.GenericSchema, `${at}{}`);
  return { type: "object", additionalProperties: value };
}

/** `union([integer, string])` is Kubernetes' int-or-string, written the way controller-gen writes it. */
function convertIntOrString(node: Node, at: string): OpenApiSchema {
  const [intSchema, stringSchema] = (node.options ?? []).map((o, i) =>
    toOpenApi(o as v.GenericSchema, `${at}|${i}`),
  );
  if (intSchema?.type !== "integer" || stringSchema?.type !== "string" || node.options?.length !== 2) {
    throw new SchemaConversionError(`${at}: only union([integer, string]) (int-or-string) is supported`);
  }
  const { type: _i, ...intChecks } = intSchema;
  const { type: _s, ...stringChecks } = stringSchema;
  return {
    "x-kubernetes-int-or-string": true,
    anyOf: [{ type: "integer" }, { type: "string" }],
    ...intChecks,
    ...stringChecks,
  };
}

function applyAction(out: OpenApiSchema, action: Node, at: string): void {
  const req = action.requirement;
  switch (action.type) {
    case "description":
      out.description = action.description as string;
      return;
    case "regex":
      out.pattern = regexSource(req, at);
      return;
    case "min_length":
      if (out.type === "array") out.minItems = req as number;
      else out.minLength = req as number;
      return;
    case "max_length":
      if (out.type === "array") out.maxItems = req as number;
      else out.maxLength = req as number;
      return;
    case "min_value":
      out.minimum = req as number;
      return;
    case "max_value":
      out.maximum = req as number;
      return;
    case "integer":
      out.type = "integer";
      return;
    case "min_entries":
      out.minProperties = req as number;
      return;
    case "max_entries":
      out.maxProperties = req as number;
      return;
    case "metadata":
      Object.assign(out, action.metadata?.openapi ?? {});
      return;
    case "unique_by":
      out["x-kubernetes-list-type"] = "map";
      out["x-kubernetes-list-map-keys"] = [(action as unknown as { key: string }).key];
      return;
    case "transition_rule":
      // `validateUpdate` follows object fields only; Kubernetes would also correlate list-map items.
      if (/\[\]|\{\}/.test(at))
        throw new SchemaConversionError(`${at}: transition rules inside lists or maps`);
      addRule(out, action.spec as TransitionRuleSpec<never>);
      return;
    case "cel_rule":
      addRule(out, action.spec as CelRuleSpec<never>);
      return;
    default:
      throw new SchemaConversionError(
        `${at}: action "${action.type}" has no CRD equivalent (pair custom checks with CEL via celRule)`,
      );
  }
}

function addRule(out: OpenApiSchema, spec: CelRuleSpec<never> | TransitionRuleSpec<never>): void {
  out["x-kubernetes-validations"] = [...(out["x-kubernetes-validations"] ?? []), validationRule(spec)];
}

function validationRule(spec: CelRuleSpec<never> | TransitionRuleSpec<never>): ValidationRule {
  return {
    rule: spec.rule,
    message: spec.message,
    ...(spec.fieldPath ? { fieldPath: spec.fieldPath } : {}),
    ...(spec.reason ? { reason: spec.reason } : {}),
  };
}

function regexSource(requirement: unknown, at: string): string {
  const re = requirement as RegExp;
  if (re.flags !== "") throw new SchemaConversionError(`${at}: regex flags cannot be expressed in OpenAPI`);
  if (!re.source.startsWith("^") || !re.source.endsWith("$")) {
    // OpenAPI patterns match anywhere in the string; unanchored ones would mean something else there.
    throw new SchemaConversionError(`${at}: regex /${re.source}/ must be anchored with ^ and $`);
  }
  return re.source;
}

function stringOption(option: Node | string, at: string): string {
  if (typeof option !== "string") throw new SchemaConversionError(`${at}: picklist options must be strings`);
  return option;
}

function checkedDefault(value: unknown, at: string): unknown {
  if (typeof value === "function")
    throw new SchemaConversionError(`${at}: defaults must be values, not functions`);
  return value;
}
