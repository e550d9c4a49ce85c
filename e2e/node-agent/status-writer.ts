/**
 * Writes a pod's status whenever what the agent knows changed: one write in flight at a time, the
 * latest state wins, nothing is written when the rendered status equals the last one written, and a
 * failed write is retried after a pause (the status is recomputed from the newest pod each time).
 */
import { abortableSleep } from "../../src/kube/clock";
import type { Pod, PodStatus } from "./pod-types";

export interface StatusWriter {
  /** Something changed: write soon. */
  kick(): void;
  /** Waits until the current state is written (or gives up after `timeoutMs`). */
  flush(timeoutMs: number): Promise<void>;
  stop(): void;
}

export interface StatusWriterDeps {
  render(): PodStatus;
  /** Writes the status; returns the updated pod. */
  write(status: PodStatus, signal: AbortSignal): Promise<Pod>;
  onWritten(pod: Pod): void;
  onError(err: unknown): void;
  readonly retryMs?: number;
}

export function createStatusWriter(deps: StatusWriterDeps): StatusWriter {
  const ctl = new AbortController();
  let dirty = false;
  let running: Promise<void> | undefined;
  let last = "";

  async function drain(): Promise<void> {
    while (dirty && !ctl.signal.aborted) {
      dirty = false;
      try {
        const status = deps.render();
        const text = JSON.stringify(status);
        if (text === last) continue;
        deps.onWritten(await deps.write(status, ctl.signal));
        last = text;
      } catch (err) {
        if (ctl.signal.aborted) return;
        deps.onError(err);
        dirty = true;
        await abortableSleep(deps.retryMs ?? 1000, ctl.signal).catch(() => undefined);
      }
    }
  }

  const kick = () => {
    dirty = true;
    if (running) return;
    running = drain().finally(() => {
      running = undefined;
      if (dirty && !ctl.signal.aborted) kick();
    });
  };

  return {
    kick,
    async flush(timeoutMs) {
      kick();
      const deadline = Date.now() + timeoutMs;
      while ((running || dirty) && Date.now() < deadline && !ctl.signal.aborted) {
        await Promise.race([running, Bun.sleep(Math.max(0, deadline - Date.now()))]);
      }
    },
    stop: () => ctl.abort(),
  };
}
