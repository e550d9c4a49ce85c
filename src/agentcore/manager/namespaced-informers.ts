/**
 * One informer per watched namespace for a kind, seen as one cache. agentcore watches only the namespaces it
 * serves (`--allowed-namespaces`), so it needs no cluster-wide read access to sandboxes or pods.
 */
import { createInformer, type Indexer, type Informer, type InformerHandlers } from "../../kube/informer";
import type { KubeObject } from "../../kube/kube-object";
import type { ResourceClient } from "../../kube/resource-client";
import type { ObjectCache } from "../controllers/object-cache";

export interface NamespacedInformers<T> extends ObjectCache<T> {
  start(): void;
  stop(): Promise<void>;
  waitForSync(signal?: AbortSignal): Promise<void>;
  addHandlers(handlers: InformerHandlers<T>): void;
}

export interface NamespacedInformerOptions<T> {
  readonly namespaces: readonly string[];
  readonly indexers?: Readonly<Record<string, Indexer<T>>>;
  readonly labelSelector?: string;
  readonly resyncMs?: number;
  readonly onError?: (err: unknown, phase: string) => void;
}

export function createNamespacedInformers<T extends KubeObject>(
  resource: ResourceClient<T>,
  opts: NamespacedInformerOptions<T>,
): NamespacedInformers<T> {
  const informers = new Map<string, Informer<T>>(
    opts.namespaces.map((namespace) => [
      namespace,
      createInformer(resource, {
        namespace,
        ...(opts.indexers ? { indexers: opts.indexers } : {}),
        ...(opts.labelSelector ? { labelSelector: opts.labelSelector } : {}),
        ...(opts.resyncMs ? { resyncMs: opts.resyncMs } : {}),
        onError: (err, phase) => opts.onError?.(err, phase),
        onHandlerError: (err) => opts.onError?.(err, "handler"),
      }),
    ]),
  );
  const all = [...informers.values()];
  return {
    get: (namespace, name) => informers.get(namespace)?.get(`${namespace}/${name}`),
    byIndex: (index, value) => all.flatMap((i) => i.byIndex(index, value)),
    list: (namespace) => informers.get(namespace)?.list() ?? [],
    start: () => {
      for (const i of all) i.start();
    },
    stop: async () => {
      await Promise.all(all.map((i) => i.stop()));
    },
    waitForSync: async (signal) => {
      await Promise.all(all.map((i) => i.waitForSync(signal)));
    },
    addHandlers: (handlers) => {
      for (const i of all) i.addHandlers(handlers);
    },
  };
}
