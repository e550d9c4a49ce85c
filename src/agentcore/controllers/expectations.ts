/**
 * Expectations (client-go's ControllerExpectations, tracking names): what a controller created or deleted
 * that its cache has not shown yet. A pool counts its sandboxes as "in the cache, plus created but not yet
 * seen, minus deleted but still seen", so a reconcile that runs before the watch delivers its own writes
 * never creates a second batch. An expectation is met when the cache catches up, or expires after `ttlMs`
 * (a write the watch will never show, e.g. an object deleted by someone else at once).
 */
import type { Clock } from "../../kube/clock";

export interface Expectations {
  expectCreate(owner: string, name: string): void;
  expectDelete(owner: string, name: string): void;
  /** A create that failed will never appear: stop waiting for it. */
  cancelCreate(owner: string, name: string): void;
  cancelDelete(owner: string, name: string): void;
  /** Names created for `owner` that `inCache` does not report yet. */
  pendingCreates(owner: string, inCache: (name: string) => boolean): string[];
  /** Names deleted for `owner` that `inCache` still reports. */
  pendingDeletes(owner: string, inCache: (name: string) => boolean): string[];
  /** The owner is gone. */
  forget(owner: string): void;
}

export function createExpectations(clock: Clock, ttlMs = 60_000): Expectations {
  const creates = new Map<string, Map<string, number>>();
  const deletes = new Map<string, Map<string, number>>();
  const add = (book: Map<string, Map<string, number>>, owner: string, name: string) => {
    const names = book.get(owner) ?? new Map<string, number>();
    book.set(owner, names);
    names.set(name, clock.monotonic() + ttlMs);
  };
  const remove = (book: Map<string, Map<string, number>>, owner: string, name: string) => {
    const names = book.get(owner);
    names?.delete(name);
    if (names?.size === 0) book.delete(owner);
  };
  /** Keeps the names still pending (`stillPending`), dropping met and expired ones. */
  const pending = (
    book: Map<string, Map<string, number>>,
    owner: string,
    stillPending: (n: string) => boolean,
  ) => {
    const names = book.get(owner);
    if (!names) return [];
    const now = clock.monotonic();
    for (const [name, expires] of names) if (expires <= now || !stillPending(name)) names.delete(name);
    if (names.size === 0) book.delete(owner);
    return [...names.keys()];
  };
  return {
    expectCreate: (owner, name) => add(creates, owner, name),
    expectDelete: (owner, name) => add(deletes, owner, name),
    cancelCreate: (owner, name) => remove(creates, owner, name),
    cancelDelete: (owner, name) => remove(deletes, owner, name),
    pendingCreates: (owner, inCache) => pending(creates, owner, (n) => !inCache(n)),
    pendingDeletes: (owner, inCache) => pending(deletes, owner, inCache),
    forget(owner) {
      creates.delete(owner);
      deletes.delete(owner);
    },
  };
}
