/**
 * A list whose items are identified by a key field (`x-kubernetes-list-type: map`), like a Pod's `env` or a
 * status's `conditions`: the apiserver rejects two items with the same key and server-side apply merges items
 * by key. `uniqueBy` is the valibot side of that contract; the CRD generator turns it into the list-map markers.
 */
import type * as v from "valibot";

export interface UniqueByIssue<T> extends v.BaseIssue<T> {
  readonly kind: "validation";
  readonly type: "unique_by";
  readonly expected: null;
}

export interface UniqueByAction<T extends readonly Record<string, unknown>[]>
  extends v.BaseValidation<T, T, UniqueByIssue<T>> {
  readonly type: "unique_by";
  readonly reference: typeof uniqueBy;
  readonly key: string;
}

export function uniqueBy<T extends readonly Record<string, unknown>[]>(key: string): UniqueByAction<T> {
  return {
    kind: "validation",
    type: "unique_by",
    reference: uniqueBy,
    async: false,
    expects: null,
    key,
    "~run"(dataset) {
      if (!dataset.typed) return dataset;
      const seen = new Set<unknown>();
      dataset.value.forEach((item, index) => {
        const id = item[key];
        if (!seen.has(id)) {
          seen.add(id);
          return;
        }
        const issue: UniqueByIssue<T> = {
          kind: "validation",
          type: "unique_by",
          input: dataset.value,
          expected: null,
          received: JSON.stringify(id),
          message: `duplicate ${key} ${JSON.stringify(id)}`,
          path: [{ type: "array", origin: "value", input: dataset.value, key: index, value: item }],
        };
        const target = dataset as unknown as { issues?: v.BaseIssue<unknown>[] };
        target.issues = [...(target.issues ?? []), issue];
      });
      return dataset;
    },
  };
}
