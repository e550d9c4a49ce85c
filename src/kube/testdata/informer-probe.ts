/**
 * Helpers for informer tests: a mirror of the world built only from handler calls, and comparisons of
 * an informer (and its mirror) with a fresh list from the apiserver.
 */
import type { Informer } from "../informer";
import { type KubeObject, objectKey } from "../kube-object";
import type { ResourceClient } from "../resource-client";

export interface HandlerMirror {
  /** key → resourceVersion, as the handlers told it. */
  readonly state: Map<string, string>;
  readonly counts: { add: number; update: number; delete: number };
  readonly deleted: Set<string>;
}

export function mirror<T extends KubeObject>(informer: Informer<T>): HandlerMirror {
  const m: HandlerMirror = { state: new Map(), counts: { add: 0, update: 0, delete: 0 }, deleted: new Set() };
  const rv = (o: T) => o.metadata?.resourceVersion ?? "";
  informer.addHandlers({
    onAdd(o) {
      m.counts.add++;
      if (m.state.has(objectKey(o))) throw new Error(`add of ${objectKey(o)} which is already present`);
      m.state.set(objectKey(o), rv(o));
    },
    onUpdate(old, o) {
      m.counts.update++;
      if (m.state.get(objectKey(old)) !== rv(old))
        throw new Error(`update of ${objectKey(o)} from a stale old`);
      m.state.set(objectKey(o), rv(o));
    },
    onDelete(o) {
      m.counts.delete++;
      if (!m.state.delete(objectKey(o))) throw new Error(`delete of ${objectKey(o)} which is absent`);
      m.deleted.add(objectKey(o));
    },
  });
  return m;
}

export const snapshot = (items: readonly KubeObject[]) =>
  new Map(items.map((o) => [objectKey(o), o.metadata?.resourceVersion ?? ""]));

export const sameState = (a: Map<string, string>, b: Map<string, string>) =>
  a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);

/** True when informer cache, handler mirror and a fresh list all agree. */
export async function agrees<T extends KubeObject>(
  informer: Informer<T>,
  m: HandlerMirror,
  resource: ResourceClient<T>,
  namespace: string,
  fieldSelector?: string,
): Promise<boolean> {
  const fresh = snapshot((await resource.listAll({ namespace, fieldSelector })).items);
  return sameState(fresh, snapshot(informer.list())) && sameState(fresh, m.state);
}
