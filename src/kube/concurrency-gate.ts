/**
 * At most `max` holders at once; the rest wait. An aborted wait leaves the queue without taking a slot.
 *
 * Two priorities. `interactive` callers (a request someone is waiting for, like a session create's writes)
 * get the next free slot before any `normal` caller, and while any interactive caller holds or waits for a
 * slot, normal callers hold at most `normalWhileInteractive` slots. On a saturated apiserver every request
 * in flight shares its CPU, so the cap is what lets a burst of creates finish ahead of the controllers'
 * follow-up writes, rather than just reach the wire ahead of them. Normal callers are never starved: they
 * keep their share, and the whole gate once the interactive work is done. Within a priority, arrival order.
 */
export type GatePriority = "interactive" | "normal";

export interface ConcurrencyGate {
  /** Resolves with the function that gives the slot back (call it exactly once). */
  acquire(signal?: AbortSignal, priority?: GatePriority): Promise<() => void>;
  /** Holders now, and callers waiting. */
  readonly active: number;
  readonly waiting: number;
  /** Callers that had to wait for a slot so far, and their summed wait (ms). */
  readonly waited: number;
  readonly waitedMs: number;
}

export interface GateOptions {
  /** Normal holders allowed while interactive callers hold or wait for slots (default `max / 8`, at least 1). */
  readonly normalWhileInteractive?: number;
  readonly now?: () => number;
}

interface Waiter {
  readonly grant: () => void;
}

export function createConcurrencyGate(max: number, opts: GateOptions = {}): ConcurrencyGate {
  if (!(max >= 1)) throw new RangeError(`concurrency limit must be at least 1, got ${max}`);
  const now = opts.now ?? (() => performance.now());
  const normalCap = Math.max(1, Math.min(max, opts.normalWhileInteractive ?? Math.floor(max / 8)));
  const holding = { interactive: 0, normal: 0 };
  const queues: Record<GatePriority, Waiter[]> = { interactive: [], normal: [] };
  let waited = 0;
  let waitedMs = 0;

  const active = () => holding.interactive + holding.normal;
  const mayTake = (priority: GatePriority) => {
    if (active() >= max) return false;
    if (priority === "interactive") return true;
    const interactiveBusy = holding.interactive > 0 || queues.interactive.length > 0;
    return !interactiveBusy || holding.normal < normalCap;
  };
  /** Hands free slots to waiters: interactive ones first, then normal ones as far as the cap allows. */
  const pump = () => {
    for (const priority of ["interactive", "normal"] as const) {
      while (queues[priority].length > 0 && mayTake(priority)) queues[priority].shift()?.grant();
    }
  };
  const slot = (priority: GatePriority) => {
    holding[priority]++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      holding[priority]--;
      pump();
    };
  };

  return {
    get active() {
      return active();
    },
    get waiting() {
      return queues.interactive.length + queues.normal.length;
    },
    get waited() {
      return waited;
    },
    get waitedMs() {
      return waitedMs;
    },
    acquire(signal, priority = "normal") {
      signal?.throwIfAborted();
      // Arrival order within a priority: nobody overtakes a waiter of its own kind.
      if (queues[priority].length === 0 && mayTake(priority)) return Promise.resolve(slot(priority));
      const since = now();
      const queue = queues[priority];
      return new Promise((resolve, reject) => {
        const onAbort = () => {
          const i = queue.indexOf(waiter);
          if (i >= 0) queue.splice(i, 1);
          reject(signal?.reason);
        };
        const waiter: Waiter = {
          grant: () => {
            signal?.removeEventListener("abort", onAbort);
            waited++;
            waitedMs += now() - since;
            resolve(slot(priority));
          },
        };
        queue.push(waiter);
        signal?.addEventListener("abort", onAbort, { once: true });
      });
    },
  };
}
