/**
 * Every replica's read model of sessions: one informer per session kind and allowed namespace. RPC reads
 * (Get, List) and "wait until Ready" come from here, so any replica answers without an apiserver round trip.
 */
import { ANNOTATIONS } from "../../api/reserved-keys";
import { createInformer, type Informer } from "../../kube/informer";
import type { KubeClient } from "../../kube/kube-client";
import { SESSION_KINDS, type SessionKindInfo, type SessionObject } from "./session-kinds";

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
}

const PRINCIPAL_INDEX = "principal";

export function createSessionCache(client: KubeClient, namespaces: readonly string[]): SessionCache {
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
  const each = () =>
    [...informers.entries()].flatMap(([kind, m]) => [...m.values()].map((inf) => ({ kind, inf })));

  return {
    start: () => {
      for (const { inf } of each()) inf.start();
    },
    waitForSync: async (signal) => {
      await Promise.all(each().map(({ inf }) => inf.waitForSync(signal)));
    },
    stop: async () => {
      await Promise.all(each().map(({ inf }) => inf.stop()));
    },
    get: (kind, namespace, name) => informers.get(kind)?.get(namespace)?.get(`${namespace}/${name}`),
    listByPrincipal: (hash, only) =>
      each()
        .filter(({ kind }) => only === undefined || kind === only)
        .flatMap(({ kind, inf }) => inf.byIndex(PRINCIPAL_INDEX, hash).map((obj) => ({ kind, obj }))),
    all: () => each().flatMap(({ kind, inf }) => inf.list().map((obj) => ({ kind, obj }))),
    waitFor(kind, namespace, name, settled, signal) {
      const inf = informers.get(kind)?.get(namespace);
      if (!inf) return Promise.reject(new Error(`namespace ${namespace} is not watched`));
      return new Promise((resolve, reject) => {
        let unregister = () => {};
        const finish = (fn: () => void) => {
          unregister();
          signal.removeEventListener("abort", onAbort);
          fn();
        };
        const check = (obj: SessionObject | undefined) => {
          const result = settled(obj);
          if (result !== undefined) finish(() => resolve(result));
        };
        const onAbort = () => finish(() => reject(signal.reason));
        if (signal.aborted) return reject(signal.reason);
        signal.addEventListener("abort", onAbort, { once: true });
        const mine = (o: SessionObject) => o.metadata?.name === name;
        unregister = inf.addHandlers({
          onAdd: (o) => mine(o) && check(o),
          onUpdate: (_old, o) => mine(o) && check(o),
          onDelete: (o) => mine(o) && check(undefined),
        });
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
