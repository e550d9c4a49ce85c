/**
 * The object model: client-node's generated types (V1Pod, V1Lease, …) as they travel on the wire.
 * client-node declares timestamps as `Date` because its own serializer converts them; we parse plain
 * JSON, so `Wire<T>` turns every `Date` into the RFC 3339 string the apiserver actually sends.
 */
import type { V1ObjectMeta } from "@kubernetes/client-node";

export type Wire<T> = 0 extends 1 & T
  ? T
  : T extends Date
    ? string
    : T extends readonly (infer U)[]
      ? Wire<U>[]
      : T extends object
        ? { [K in keyof T]: Wire<T[K]> | OptionalUndefined<T, K> }
        : T;

/**
 * Optional fields also accept an explicit `undefined`, so objects typed by valibot schemas (whose optional
 * outputs are `T | undefined` under `exactOptionalPropertyTypes`) are assignable to these wire types.
 */
type OptionalUndefined<T, K extends keyof T> = object extends Pick<T, K> ? undefined : never;

export type ObjectMeta = Wire<V1ObjectMeta>;

/** What every Kubernetes object has. */
export interface KubeObject {
  apiVersion?: string | undefined;
  kind?: string | undefined;
  metadata?: ObjectMeta | undefined;
}

/** `namespace/name`, or `name` for cluster-scoped objects: the key of caches and work queues. */
export function objectKey(obj: {
  metadata?: { name?: string | undefined; namespace?: string | undefined } | undefined;
}): string {
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? "";
  return ns ? `${ns}/${name}` : name;
}

/** Splits a key made by {@link objectKey}. */
export function splitKey(key: string): { namespace?: string; name: string } {
  const slash = key.indexOf("/");
  return slash === -1 ? { name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
