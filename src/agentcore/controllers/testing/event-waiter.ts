/**
 * Waits for watch events, for latency measurements: one long-lived watch per resource, and `until(key,
 * pred)` resolves with the `performance.now()` of the first event for `key` (by default the object's name)
 * that satisfies `pred`.
 */
import type { KubeObject } from "../../../kube/kube-object";
import type { ResourceClient } from "../../../kube/resource-client";

export async function watcher<T extends KubeObject>(
  api: ResourceClient<T>,
  ns: string,
  keyOf: (o: T) => string = (o) => o.metadata?.name ?? "",
) {
  const waiting = new Map<string, { pred: (o: T) => boolean; resolve: (at: number) => void }>();
  const { resourceVersion } = await api.list({ namespace: ns, limit: 1 });
  const stream = await api.watch({
    namespace: ns,
    resourceVersion,
    allowWatchBookmarks: true,
    timeoutSeconds: 900,
  });
  const done = (async () => {
    try {
      for await (const e of stream) {
        if (e.type === "BOOKMARK") continue;
        const key = keyOf(e.object);
        const w = waiting.get(key);
        if (w?.pred(e.object)) {
          waiting.delete(key);
          w.resolve(performance.now());
        }
      }
    } catch {
      // closed
    }
  })();
  return {
    until: (name: string, pred: (o: T) => boolean, timeoutMs = 60_000) =>
      new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(name);
          reject(new Error(`timed out waiting for ${name}`));
        }, timeoutMs);
        waiting.set(name, {
          pred,
          resolve: (at) => {
            clearTimeout(timer);
            resolve(at);
          },
        });
      }),
    async close() {
      stream.close();
      await done;
    },
  };
}
