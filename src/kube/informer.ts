/**
 * An informer: a watch loop feeding an in-memory cache of one resource type, with indexes and
 * add/update/delete handlers. Handlers run synchronously, in event order, and should only enqueue work.
 * After a relist the cache diffs the new list against what it holds, so handlers see exactly the
 * changes missed while disconnected (a delete carries the last state the cache knew).
 */
import { type Clock, systemClock } from "./clock";
import { type KubeObject, objectKey } from "./kube-object";
import type { ResourceClient } from "./resource-client";
import { createWatchLoop, type WatchLoopOptions, type WatchTarget } from "./watch-loop";
import type { WatchEventType } from "./watch-stream";

/** Maps an object to the index values it is filed under. */
export type Indexer<T> = (obj: T) => readonly string[];

export const namespaceIndexer: Indexer<KubeObject> = (o) => [o.metadata?.namespace ?? ""];
export const ownerUidIndexer: Indexer<KubeObject> = (o) =>
  o.metadata?.ownerReferences?.map((r) => r.uid) ?? [];
export const labelIndexer =
  (label: string): Indexer<KubeObject> =>
  (o) => {
    const value = o.metadata?.labels?.[label];
    return value === undefined ? [] : [value];
  };

export interface InformerHandlers<T> {
  onAdd?(obj: T): void;
  /** Also called with `old === obj` on a periodic resync. */
  onUpdate?(old: T, obj: T): void;
  onDelete?(obj: T): void;
}

export interface InformerOptions<T> extends WatchLoopOptions {
  /** Named indexes in addition to the built-in `namespace` index. */
  readonly indexers?: Readonly<Record<string, Indexer<T>>>;
  /** Calls `onUpdate(obj, obj)` for every cached object this often (default: never). */
  readonly resyncMs?: number;
  /** A handler threw; the informer carries on. */
  readonly onHandlerError?: (err: unknown) => void;
  readonly clock?: Clock;
}

export interface Informer<T> {
  start(): void;
  /** Final; resolves once no request is open and no further handler will run. */
  stop(): Promise<void>;
  /** True once the first list has been delivered. */
  hasSynced(): boolean;
  waitForSync(signal?: AbortSignal): Promise<void>;
  /**
   * Registers handlers; returns the unregister function. Objects already cached are delivered as adds
   * first, so late handlers see the same world as early ones.
   */
  addHandlers(handlers: InformerHandlers<T>): () => void;
  /** By `namespace/name` (or `name` for cluster-scoped). */
  get(key: string): T | undefined;
  list(): T[];
  keys(): string[];
  byIndex(index: string, value: string): T[];
  readonly resourceVersion: string;
}

export function createInformer<T extends KubeObject>(
  resource: ResourceClient<T>,
  opts: InformerOptions<T> = {},
): Informer<T> {
  const clock = opts.clock ?? systemClock;
  const store = createIndexedStore<T>({ namespace: namespaceIndexer, ...opts.indexers });
  const handlers = new Set<InformerHandlers<T>>();
  let synced = false;
  let stopped = false;
  const syncWaiters: (() => void)[] = [];
  const emit = (fn: (h: InformerHandlers<T>) => void) => {
    for (const h of handlers) {
      try {
        fn(h);
      } catch (err) {
        opts.onHandlerError?.(err);
      }
    }
  };
  const target: WatchTarget<T> = {
    replace(items) {
      if (stopped) return;
      const fresh = new Map(items.map((o) => [objectKey(o), o] as const));
      for (const [key, old] of store.entries()) {
        if (!fresh.has(key)) {
          store.delete(key);
          emit((h) => h.onDelete?.(old));
        }
      }
      for (const [key, obj] of fresh) upsert(key, obj);
      if (!synced) {
        synced = true;
        for (const wake of syncWaiters.splice(0)) wake();
      }
    },
    apply(type: WatchEventType, obj: T) {
      if (stopped) return;
      const key = objectKey(obj);
      if (type !== "DELETED") {
        upsert(key, obj);
        return;
      }
      const old = store.get(key);
      if (old === undefined) return;
      store.delete(key);
      emit((h) => h.onDelete?.(obj));
    },
  };
  function upsert(key: string, obj: T): void {
    const old = store.get(key);
    if (old !== undefined && old.metadata?.resourceVersion === obj.metadata?.resourceVersion) return;
    store.set(key, obj);
    if (old === undefined) {
      emit((h) => h.onAdd?.(obj));
    } else if (old.metadata?.uid !== obj.metadata?.uid) {
      // Deleted and re-created under the same name while we were not watching: a new object, not an update.
      emit((h) => h.onDelete?.(old));
      emit((h) => h.onAdd?.(obj));
    } else {
      emit((h) => h.onUpdate?.(old, obj));
    }
  }

  const loop = createWatchLoop(resource, target, opts);
  const resync = new AbortController();
  async function resyncForever(every: number): Promise<void> {
    while (!resync.signal.aborted) {
      await clock.sleep(every, resync.signal).catch(() => {});
      if (resync.signal.aborted || !synced) continue;
      for (const obj of store.values()) emit((h) => h.onUpdate?.(obj, obj));
    }
  }
  let resyncing: Promise<void> | undefined;

  return {
    start() {
      if (stopped) return;
      loop.start();
      if (opts.resyncMs && !resyncing) resyncing = resyncForever(opts.resyncMs);
    },
    async stop() {
      stopped = true;
      resync.abort();
      await Promise.all([loop.stop(), resyncing]);
    },
    hasSynced: () => synced,
    waitForSync(signal) {
      if (synced) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        signal?.throwIfAborted();
        const onAbort = () => reject(signal?.reason);
        signal?.addEventListener("abort", onAbort, { once: true });
        syncWaiters.push(() => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        });
      });
    },
    addHandlers(h) {
      handlers.add(h);
      for (const obj of store.values()) {
        try {
          h.onAdd?.(obj);
        } catch (err) {
          opts.onHandlerError?.(err);
        }
      }
      return () => handlers.delete(h);
    },
    get: (key) => store.get(key),
    list: () => [...store.values()],
    keys: () => [...store.keys()],
    byIndex: (index, value) => store.byIndex(index, value),
    get resourceVersion() {
      return loop.resourceVersion;
    },
  };
}

/** A map of objects by key plus, per indexer, value → keys. */
function createIndexedStore<T>(indexers: Readonly<Record<string, Indexer<T>>>) {
  const items = new Map<string, T>();
  const indices = new Map<string, Map<string, Set<string>>>(Object.keys(indexers).map((n) => [n, new Map()]));
  const file = (key: string, obj: T, add: boolean) => {
    for (const [name, indexer] of Object.entries(indexers)) {
      const index = indices.get(name) as Map<string, Set<string>>;
      for (const value of indexer(obj)) {
        const keys = index.get(value);
        if (add) {
          if (keys) keys.add(key);
          else index.set(value, new Set([key]));
        } else if (keys) {
          keys.delete(key);
          if (keys.size === 0) index.delete(value);
        }
      }
    }
  };
  return {
    get: (key: string) => items.get(key),
    set(key: string, obj: T) {
      const old = items.get(key);
      if (old !== undefined) file(key, old, false);
      items.set(key, obj);
      file(key, obj, true);
    },
    delete(key: string) {
      const old = items.get(key);
      if (old === undefined) return;
      file(key, old, false);
      items.delete(key);
    },
    entries: () => [...items.entries()],
    values: () => items.values(),
    keys: () => items.keys(),
    byIndex(name: string, value: string): T[] {
      const index = indices.get(name);
      if (!index) throw new Error(`informer has no index "${name}"`);
      return [...(index.get(value) ?? [])].map((k) => items.get(k) as T);
    },
  };
}
