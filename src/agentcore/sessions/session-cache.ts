/**
 * Every replica's read model of sessions: one informer per session kind and allowed namespace. RPC reads
 * (Get, List) and "wait until Ready" come from here, so any replica answers without an apiserver round trip.
 *
 * Read-your-deletes: the watch confirms a delete a moment after the apiserver accepted it, so a replica
 * that deletes a session buries it (`bury`): until its own informer drops the object (or shows it
 * terminating, or replaced by another uid) every read here treats it as gone. Other replicas learn of the
 * delete from their own watch of the same apiserver; `untilGone` lets the deleter answer only once its
 * watch has seen the event, by which time the apiserver has sent it to every watcher.
 *
 * Reads show a session as Ready as soon as this replica's watch shows the warm sandbox adopted by the
 * session's claim or pre-adopted by the session for it, or (on the leader) as soon as its own adoption
 * write returns (`session-sandboxes.ts`), one status write before the leader records it on the session.
 * Change handlers (GC) see the session objects as written.
 */
import { ANNOTATIONS } from "../../api/reserved-keys";
import type { Sandbox } from "../../api/sandbox";
import { type Clock, systemClock } from "../../kube/clock";
import { createInformer, type Informer } from "../../kube/informer";
import type { KubeClient } from "../../kube/kube-client";
import type { Holder } from "../controllers/claim-bindings";
import { createNotedCreates } from "./noted-creates";
import { SESSION_KINDS, type SessionKindInfo, type SessionObject } from "./session-kinds";
import { createSessionSandboxes } from "./session-sandboxes";

export interface SessionCache {
  start(): void;
  waitForSync(signal?: AbortSignal): Promise<void>;
  stop(): Promise<void>;
  get(kind: SessionKindInfo, namespace: string, name: string): SessionObject | undefined;
  /** Sessions created by the principal with this hash, across kinds and namespaces. */
  listByPrincipal(hash: string, kind?: SessionKindInfo): Array<{ kind: SessionKindInfo; obj: SessionObject }>;
  all(): Array<{ kind: SessionKindInfo; obj: SessionObject }>;
  /**
   * Resolves with the first state of the object for which `settled` returns a value; rejects when `signal`
   * aborts. Sees changes in the order the informer does, starting from the cached state.
   */
  waitFor<R>(
    kind: SessionKindInfo,
    namespace: string,
    name: string,
    settled: (obj: SessionObject | undefined) => R | undefined,
    signal: AbortSignal,
  ): Promise<R>;
  /** Registers a handler for every change of any session (used by GC); returns the unregister function. */
  onChange(handler: (kind: SessionKindInfo, obj: SessionObject) => void): () => void;
  /**
   * This replica deleted the object with this uid: reads treat it as gone from now on, until the watch
   * confirms it (or a safety TTL passes, so a watch that never confirms cannot hide a session for good).
   */
  bury(kind: SessionKindInfo, obj: SessionObject): void;
  /**
   * Resolves true once the informer no longer shows this uid as a live object (gone, terminating or
   * replaced), false when `signal` aborts first. Never rejects.
   */
  untilGone(kind: SessionKindInfo, obj: SessionObject, signal: AbortSignal): Promise<boolean>;
  /**
   * This replica (leading) wrote the adoption of `sandbox` by `holder` (a claim, or a session pre-adopting
   * for its claim): reads and waits see it now rather than one watch delivery later (session-sandboxes.ts).
   */
  adopted(holder: Holder, sandbox: Sandbox): void;
  /**
   * This replica created `obj` and answered with it before its watch showed it (a reserved warm create):
   * reads here show it as answered until the watch shows that object (or a TTL passes), so the caller's
   * next Get or Delete on this replica finds it.
   */
  noteCreated(kind: SessionKindInfo, obj: SessionObject): void;
  /** Warm sandboxes a create may reserve, by `pool:<name>` or `hash:<template hash>` (warm-reservation.ts). */
  warm(namespace: string, source: string): Sandbox[];
  /** Whether this replica's watch shows any sandbox of the pool with this name. */
  poolSeen(namespace: string, poolName: string): boolean;
}

export interface SessionCacheOptions {
  readonly clock?: Clock;
  /** How long a tombstone hides an object the watch has not yet confirmed deleted (default 60 s). */
  readonly tombstoneTtlMs?: number;
}

const PRINCIPAL_INDEX = "principal";
const DEFAULT_TOMBSTONE_TTL_MS = 60_000;

/** Whether the cached object still stands for the buried one (same uid, not yet terminating). */
const stillShows = (cached: SessionObject | undefined, uid: string | undefined) =>
  cached !== undefined &&
  !cached.metadata.deletionTimestamp &&
  (uid === undefined || cached.metadata.uid === uid);

export function createSessionCache(
  client: KubeClient,
  namespaces: readonly string[],
  opts: SessionCacheOptions = {},
): SessionCache {
  const informers = new Map<SessionKindInfo, Map<string, Informer<SessionObject>>>();
  for (const kind of SESSION_KINDS) {
    const perNs = new Map<string, Informer<SessionObject>>();
    for (const namespace of namespaces) {
      perNs.set(
        namespace,
        createInformer(client.resource(kind.resource), {
          namespace,
          indexers: { [PRINCIPAL_INDEX]: (o) => [o.metadata?.annotations?.[ANNOTATIONS.principal] ?? ""] },
        }),
      );
    }
    informers.set(kind, perNs);
  }
  const clock = opts.clock ?? systemClock;
  const sandboxes = createSessionSandboxes(client, namespaces, clock);
  const each = () =>
    [...informers.entries()].flatMap(([kind, m]) => [...m.values()].map((inf) => ({ kind, inf })));
  const tombstones = createTombstones(
    clock,
    opts.tombstoneTtlMs ?? DEFAULT_TOMBSTONE_TTL_MS,
    (kind, namespace, name) => informers.get(kind)?.get(namespace)?.get(`${namespace}/${name}`),
  );
  const visible = (kind: SessionKindInfo) => (obj: SessionObject) => !tombstones.hides(kind, obj);
  const shown = sandboxes.overlay;
  const created = createNotedCreates(clock, (kind, namespace, name) =>
    informers.get(kind)?.get(namespace)?.get(`${namespace}/${name}`),
  );
  const cachedOrNoted = (kind: SessionKindInfo, namespace: string, name: string) =>
    informers.get(kind)?.get(namespace)?.get(`${namespace}/${name}`) ?? created.get(kind, namespace, name);

  return {
    start: () => {
      for (const { inf } of each()) inf.start();
      sandboxes.start();
    },
    waitForSync: async (signal) => {
      // Not the sandbox watches: they only accelerate (until they sync, sessions wait for their status).
      await Promise.all(each().map(({ inf }) => inf.waitForSync(signal)));
    },
    stop: async () => {
      await Promise.all([...each().map(({ inf }) => inf.stop()), sandboxes.stop()]);
    },
    get: (kind, namespace, name) => {
      const obj = cachedOrNoted(kind, namespace, name);
      return obj && visible(kind)(obj) ? shown(obj) : undefined;
    },
    listByPrincipal: (hash, only) => {
      const noted = created
        .list()
        .filter(
          ({ kind, obj }) => obj.metadata.annotations?.[ANNOTATIONS.principal] === hash && visible(kind)(obj),
        )
        .filter(({ kind }) => only === undefined || kind === only);
      return each()
        .filter(({ kind }) => only === undefined || kind === only)
        .flatMap(({ kind, inf }) =>
          inf
            .byIndex(PRINCIPAL_INDEX, hash)
            .filter(visible(kind))
            .map((obj) => ({ kind, obj: shown(obj) })),
        )
        .concat(noted);
    },
    all: () =>
      each().flatMap(({ kind, inf }) =>
        inf
          .list()
          .filter(visible(kind))
          .map((obj) => ({ kind, obj: shown(obj) })),
      ),
    bury: (kind, obj) => {
      created.forget(kind, obj);
      tombstones.add(kind, obj);
    },
    noteCreated: (kind, obj) => created.add(kind, obj),
    adopted: (holder, sandbox) => sandboxes.adopted(holder, sandbox),
    warm: (namespace, source) => sandboxes.warm(namespace, source),
    poolSeen: (namespace, poolName) => sandboxes.poolSeen(namespace, poolName),
    untilGone(kind, obj, signal) {
      const { namespace = "", name = "", uid } = obj.metadata;
      const inf = informers.get(kind)?.get(namespace);
      if (!inf || !stillShows(inf.get(`${namespace}/${name}`), uid)) return Promise.resolve(true);
      if (signal.aborted) return Promise.resolve(false);
      return new Promise((resolve) => {
        const finish = (gone: boolean) => {
          off();
          signal.removeEventListener("abort", onAbort);
          resolve(gone);
        };
        const onAbort = () => finish(false);
        const check = () => {
          if (!stillShows(inf.get(`${namespace}/${name}`), uid)) finish(true);
        };
        const mine = (o: SessionObject) => o.metadata?.name === name;
        const off = inf.addHandlers({
          onUpdate: (_old, o) => mine(o) && check(),
          onDelete: (o) => mine(o) && check(),
        });
        signal.addEventListener("abort", onAbort, { once: true });
      });
    },
    waitFor(kind, namespace, name, settled, signal) {
      const inf = informers.get(kind)?.get(namespace);
      if (!inf) return Promise.reject(new Error(`namespace ${namespace} is not watched`));
      return new Promise((resolve, reject) => {
        if (signal.aborted) return reject(signal.reason);
        const offs: Array<() => void> = [];
        let done = false;
        const finish = (fn: () => void) => {
          if (done) return;
          done = true;
          for (const off of offs) off();
          signal.removeEventListener("abort", onAbort);
          fn();
        };
        const check = (obj: SessionObject | undefined) => {
          const result = settled(obj && shown(obj));
          if (result !== undefined) finish(() => resolve(result));
        };
        const onAbort = () => finish(() => reject(signal.reason));
        signal.addEventListener("abort", onAbort, { once: true });
        // Its claim or sandbox moved: look again at the session as cached (nothing to judge before it is).
        offs.push(
          sandboxes.onChange(namespace, name, () => {
            const obj = inf.get(`${namespace}/${name}`);
            if (obj) check(obj);
          }),
        );
        const mine = (o: SessionObject) => o.metadata?.name === name;
        // Registering delivers the cached state at once, which may settle the wait right here.
        const off = inf.addHandlers({
          onAdd: (o) => mine(o) && check(o),
          onUpdate: (_old, o) => mine(o) && check(o),
          onDelete: (o) => mine(o) && check(undefined),
        });
        if (done) off();
        else offs.push(off);
      });
    },
    onChange(handler) {
      const offs = each().map(({ kind, inf }) =>
        inf.addHandlers({
          onAdd: (o) => handler(kind, o),
          onUpdate: (_old, o) => handler(kind, o),
          onDelete: (o) => handler(kind, o),
        }),
      );
      return () => {
        for (const off of offs) off();
      };
    },
  };
}

interface Tombstones {
  add(kind: SessionKindInfo, obj: SessionObject): void;
  /** True while `obj` is the buried object and the cache has not yet confirmed its deletion. */
  hides(kind: SessionKindInfo, obj: SessionObject): boolean;
}

/**
 * Tombstones by kind/namespace/name, each for one uid. A tombstone ends as soon as the cache no longer
 * shows that uid live (checked on every read), or at its TTL; expired ones are swept as new ones come.
 */
function createTombstones(
  clock: Clock,
  ttlMs: number,
  cached: (kind: SessionKindInfo, namespace: string, name: string) => SessionObject | undefined,
): Tombstones {
  const buried = new Map<string, { kind: SessionKindInfo; uid: string | undefined; until: number }>();
  const keyOf = (kind: SessionKindInfo, obj: SessionObject) =>
    `${kind.kind}/${obj.metadata.namespace ?? ""}/${obj.metadata.name ?? ""}`;
  const settled = (key: string) => {
    const t = buried.get(key);
    if (!t) return true;
    const [, namespace = "", name = ""] = key.split("/");
    if (clock.monotonic() >= t.until || !stillShows(cached(t.kind, namespace, name), t.uid)) {
      buried.delete(key);
      return true;
    }
    return false;
  };
  return {
    add(kind, obj) {
      for (const key of [...buried.keys()]) settled(key);
      buried.set(keyOf(kind, obj), { kind, uid: obj.metadata.uid, until: clock.monotonic() + ttlMs });
    },
    hides(kind, obj) {
      const key = keyOf(kind, obj);
      if (settled(key)) return false;
      const uid = buried.get(key)?.uid;
      return uid === undefined || obj.metadata.uid === uid;
    },
  };
}
