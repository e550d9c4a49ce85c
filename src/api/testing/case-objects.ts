/**
 * Builders for the objects of the validation tables: minimal valid objects of each kind, changed one field at
 * a time. Test data only: nothing in the product imports `src/api/testing/`.
 */
import { agentSessionKind } from "../agent-session";
import { codeInterpreterKind } from "../code-interpreter";
import type { KindDefinition } from "../kind";
import { sandboxKind } from "../sandbox";
import { sandboxClaimKind } from "../sandbox-claim";
import { sandboxPoolKind } from "../sandbox-pool";

export type Json = Record<string, unknown>;

export interface CreateCase {
  readonly name: string;
  readonly kind: KindDefinition;
  readonly object: Json;
  /** For invalid objects: the field path the apiserver's message must name. */
  readonly field?: string;
}

export interface UpdateCase {
  readonly name: string;
  readonly kind: KindDefinition;
  readonly old: Json;
  readonly updated: Json;
  /** Set when both sides must reject the update: the field they must blame. */
  readonly field?: string;
}

const IMAGE = "agentland/code-interpreter:0.1.0";

export function object(kind: KindDefinition, spec: unknown, name = "example"): Json {
  return { apiVersion: kind.names.apiVersion, kind: kind.names.kind, metadata: { name }, spec };
}

export const template = (extra: Json = {}) => ({ image: IMAGE, ...extra });
export const codei = (spec: Json) => object(codeInterpreterKind, spec);
export const codeiTemplate = (extra: Json) => codei({ sandboxTemplate: template(extra) });
export const pool = (spec: Json) => object(sandboxPoolKind, spec);
export const claim = (spec: Json) => object(sandboxClaimKind, spec);
export const session = (spec: Json) => object(agentSessionKind, { runtimeRef: { name: "agent" }, ...spec });
export const sandbox = (spec: Json) => object(sandboxKind, { sandboxTemplate: template(), ...spec });
export const withSpec = (base: Json, spec: Json): Json => ({
  ...base,
  spec: { ...(base["spec"] as Json), ...spec },
});
