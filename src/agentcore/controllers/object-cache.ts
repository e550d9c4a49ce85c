/**
 * What a reconciler reads: informer caches, possibly spanning several namespaces. Reads are from memory and
 * may lag the apiserver; reconcilers make every decision that matters (adoption, deletion) with a
 * resourceVersion precondition, so a stale read costs a retry, never a wrong write.
 */
export interface ObjectCache<T> {
  get(namespace: string, name: string): T | undefined;
  /** Objects filed under `value` in the named index (see the manager's indexers). */
  byIndex(index: string, value: string): T[];
  /** Every object in `namespace`. */
  list(namespace: string): T[];
}

/** Index names the manager registers and reconcilers query. */
export const INDEX = {
  /** uid of the controlling owner. */
  controller: "controller",
  /** Sandboxes: `spec.claimRef.uid`. */
  claimUid: "claim-uid",
  /** Sandboxes a claim may adopt right now: `pool:<pool uid>` and `hash:<namespace>/<template hash>`. */
  available: "available",
  /** Claims not yet bound: the namespace. */
  unbound: "unbound",
  /** Pools and AgentSessions: the referenced runtime, `<namespace>/<name>`. */
  runtime: "runtime",
  /** Sessions: the sandbox their reservation names, `<namespace>/<sandbox>` (reservation-annotation.ts). */
  reservation: "reservation",
} as const;
