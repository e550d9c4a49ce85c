/**
 * The parts of `metadata` agentland's code reads. The apiserver validates metadata itself (CRDs may not add
 * schema to it), so this is a typed view, not a second validator: unknown fields are kept.
 */
import * as v from "valibot";

const stringMap = v.record(v.string(), v.string());

const ownerReference = v.looseObject({
  apiVersion: v.string(),
  kind: v.string(),
  name: v.string(),
  uid: v.string(),
  controller: v.optional(v.boolean()),
  blockOwnerDeletion: v.optional(v.boolean()),
});

export const objectMetaSchema = v.looseObject({
  name: v.optional(v.string()),
  generateName: v.optional(v.string()),
  namespace: v.optional(v.string()),
  uid: v.optional(v.string()),
  resourceVersion: v.optional(v.string()),
  generation: v.optional(v.number()),
  creationTimestamp: v.optional(v.string()),
  deletionTimestamp: v.optional(v.string()),
  labels: v.optional(stringMap),
  annotations: v.optional(stringMap),
  ownerReferences: v.optional(v.array(ownerReference)),
  finalizers: v.optional(v.array(v.string())),
});

export type ObjectMeta = v.InferOutput<typeof objectMetaSchema>;
export type OwnerReference = v.InferOutput<typeof ownerReference>;
