/**
 * Pods of a namespace that lost readiness (Ready True → False) while still running, on the benchmark's
 * clock. Watched because a warm sandbox whose readiness probe times out under load stops being answerable
 * and costs a pod, a sandbox and a session status write each way: a burst that made probes miss would
 * feed on itself.
 */
import { createInformer } from "../../../src/kube/informer";
import type { KubeClient } from "../../../src/kube/kube-client";
import { PODS } from "../../../src/kube/resources";

export interface ReadinessFlips {
  /** Losses of readiness at or after `since`, and how many pods they were. */
  since(since: number): { readonly flips: number; readonly pods: number };
  stop(): Promise<void>;
}

const ready = (conditions: readonly { type: string; status: string }[] | undefined) =>
  conditions?.some((c) => c.type === "Ready" && c.status === "True") === true;

export async function watchReadinessFlips(kube: KubeClient, namespace: string): Promise<ReadinessFlips> {
  const flips: { at: number; pod: string }[] = [];
  const pods = createInformer(kube.resource(PODS), { namespace });
  pods.addHandlers({
    onAdd: () => undefined,
    onUpdate: (old, pod) => {
      if (ready(old.status?.conditions) && !ready(pod.status?.conditions) && !pod.metadata?.deletionTimestamp)
        flips.push({ at: performance.now(), pod: pod.metadata?.name ?? "" });
    },
    onDelete: () => undefined,
  });
  pods.start();
  await pods.waitForSync();
  return {
    since(t) {
      const after = flips.filter((f) => f.at >= t);
      return { flips: after.length, pods: new Set(after.map((f) => f.pod)).size };
    },
    stop: () => pods.stop(),
  };
}
