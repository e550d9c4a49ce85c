/**
 * `defineKind` ties a kind's names, spec and status schemas and `kubectl get` columns into one definition:
 * the full-object valibot schema used by `parseX`, and everything the CRD generator needs.
 */
import * as v from "valibot";
import { API_VERSION, type KindNames } from "./group";
import { objectMetaSchema } from "./object-meta";
import { celRule } from "./schema/cel-rule";

export interface PrinterColumn {
  readonly name: string;
  readonly type: "string" | "integer" | "number" | "boolean" | "date";
  readonly jsonPath: string;
  readonly description: string;
  /** 0 shows in `kubectl get`; 1 only with `-o wide`. */
  readonly priority?: number;
}

/** The `scale` subresource, for `kubectl scale` and autoscalers. */
export interface ScaleSubresource {
  readonly specReplicasPath: string;
  readonly statusReplicasPath: string;
  readonly labelSelectorPath: string;
}

/**
 * Names are copied into label values (`agentland.fl0rencess720.app/sandbox=<name>`), which Kubernetes caps at
 * 63 characters; refusing longer names up front beats a session that can never create its pod.
 */
export function nameFitsLabel<T>() {
  return celRule<T>({
    rule: "!has(self.metadata.name) || self.metadata.name.size() <= 63",
    message: "metadata.name must be at most 63 characters",
    check: (self) => ((self as { metadata: { name?: string } }).metadata.name?.length ?? 0) <= 63,
  });
}

export interface KindDefinitionInput<N extends KindNames, TSpec, TStatus> {
  readonly names: N;
  /** What an object of this kind is, for `kubectl explain <kind>`. */
  readonly description: string;
  readonly spec: TSpec;
  readonly status: TStatus;
  readonly printerColumns: readonly PrinterColumn[];
  readonly scale?: ScaleSubresource;
  /** The file in `src/api` that defines the kind, named in the generated YAML's header. */
  readonly source: string;
}

export function defineKind<
  const N extends KindNames,
  TSpec extends v.GenericSchema,
  TStatus extends v.GenericSchema,
>(input: KindDefinitionInput<N, TSpec, TStatus>) {
  const schema = v.pipe(
    v.object({
      apiVersion: v.literal(API_VERSION),
      kind: v.literal(input.names.kind as N["kind"]),
      metadata: objectMetaSchema,
      spec: input.spec,
      status: v.optional(input.status),
    }),
    nameFitsLabel(),
  );
  return { ...input, schema };
}

/** A kind as the CRD generator and generic validation see it. */
export interface KindDefinition {
  readonly names: KindNames;
  readonly description: string;
  readonly spec: v.GenericSchema;
  readonly status: v.GenericSchema;
  readonly printerColumns: readonly PrinterColumn[];
  readonly scale?: ScaleSubresource | undefined;
  readonly source: string;
  /** The whole object: apiVersion, kind, metadata, spec, status. */
  readonly schema: v.GenericSchema;
}
