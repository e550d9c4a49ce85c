/**
 * Reading valibot schemas as data. Valibot schemas and actions are plain objects; this is the part of their
 * shape the CRD generator and the update validator walk.
 */
import type * as v from "valibot";
import type { CelRuleSpec, TransitionRuleSpec } from "./cel-rule";
import type { OpenApiExtras } from "./fields";

export interface SchemaNode {
  readonly kind: "schema" | "validation" | "transformation" | "metadata";
  readonly type: string;
  readonly pipe?: readonly SchemaNode[];
  readonly entries?: Readonly<Record<string, SchemaNode>>;
  readonly wrapped?: SchemaNode;
  readonly default?: unknown;
  readonly item?: SchemaNode;
  readonly key?: SchemaNode | string;
  readonly value?: SchemaNode;
  readonly options?: readonly (SchemaNode | string)[];
  readonly requirement?: unknown;
  readonly description?: string;
  readonly metadata?: { readonly openapi?: OpenApiExtras };
  readonly spec?: CelRuleSpec<never> | TransitionRuleSpec<never>;
}

export function asNode(schema: v.GenericSchema): SchemaNode {
  return schema as unknown as SchemaNode;
}

/** Splits nested pipes into the innermost schema and all actions, inner ones first (outer ones win). */
export function unpipe(node: SchemaNode): { base: SchemaNode; actions: SchemaNode[] } {
  if (!node.pipe) return { base: node, actions: [] };
  const [first, ...rest] = node.pipe;
  const inner = unpipe(first as SchemaNode);
  return { base: inner.base, actions: [...inner.actions, ...rest] };
}

/** Like {@link unpipe}, also looking through `optional`, whose wrapped schema may carry its own pipe. */
export function unwrap(node: SchemaNode): { base: SchemaNode; actions: SchemaNode[]; optional: boolean } {
  const outer = unpipe(node);
  if (outer.base.type !== "optional") return { ...outer, optional: false };
  const inner = unpipe(outer.base.wrapped as SchemaNode);
  return { base: inner.base, actions: [...inner.actions, ...outer.actions], optional: true };
}
