/**
 * Keeps one pod worker per pod bound to this node, keyed by UID (a pod recreated under the same name
 * is a different pod). Reacts to the state of each pod object, whatever event delivered it:
 * - not seen before, not terminal, not deleting → start a worker;
 * - deletionTimestamp set → stop its containers within the grace period, clean up, final delete;
 *   a deleting pod without a worker (never started here) is final-deleted at once;
 * - gone from the apiserver (force-deleted) → stop its containers, clean up, nothing to delete.
 */
import type { InformerHandlers } from "../../src/kube/informer";
import { isTerminalPhase } from "./pod-status";
import type { Pod } from "./pod-types";
import { deletionGraceMs, type PodWorker } from "./pod-worker";

export interface PodManagerDeps {
  startWorker(pod: Pod): PodWorker;
  finalDelete(pod: Pod): Promise<void>;
  log(msg: string, fields?: Record<string, unknown>): void;
  /** Grace for pods removed without a graceful deletion (force delete). */
  readonly forcedGraceMs?: number;
}

export interface PodManager {
  readonly handlers: InformerHandlers<Pod>;
  workers(): ReadonlyMap<string, PodWorker>;
  /** Stops every pod (within `graceMs` each), without deleting the objects. */
  shutdown(graceMs: number): Promise<void>;
}

export function createPodManager(deps: PodManagerDeps): PodManager {
  const workers = new Map<string, PodWorker>();
  const finishing = new Map<string, Promise<void>>();
  let stopping = false;

  const track = (uid: string, work: Promise<void>) => {
    const done = work
      .catch((err: unknown) => deps.log("pod cleanup failed", { uid, error: String(err) }))
      .finally(() => {
        workers.delete(uid);
        finishing.delete(uid);
      });
    finishing.set(uid, done);
  };

  function sync(pod: Pod) {
    const uid = pod.metadata?.uid ?? "";
    if (!uid || finishing.has(uid)) return;
    const worker = workers.get(uid);
    if (pod.metadata?.deletionTimestamp) {
      if (stopping) return;
      track(
        uid,
        worker ? worker.terminate(deletionGraceMs(pod), { finalDelete: true }) : deps.finalDelete(pod),
      );
      return;
    }
    if (worker) return worker.update(pod);
    if (stopping || isTerminalPhase(pod.status?.phase)) return;
    workers.set(uid, deps.startWorker(pod));
  }

  function gone(pod: Pod) {
    const uid = pod.metadata?.uid ?? "";
    const worker = workers.get(uid);
    if (!worker || finishing.has(uid)) return;
    track(uid, worker.terminate(deps.forcedGraceMs ?? 2_000, { finalDelete: false }));
  }

  return {
    handlers: {
      onAdd: sync,
      onUpdate(old, pod) {
        if (old.metadata?.uid !== pod.metadata?.uid) gone(old);
        sync(pod);
      },
      onDelete: gone,
    },
    workers: () => workers,
    async shutdown(graceMs) {
      stopping = true;
      for (const [uid, w] of workers) {
        if (!finishing.has(uid)) track(uid, w.terminate(graceMs, { finalDelete: false }));
      }
      await Promise.all(finishing.values());
    },
  };
}
