/**
 * At most `max` holders at once; the rest wait in arrival order. An aborted wait leaves the queue without
 * taking a slot.
 */
export interface ConcurrencyGate {
  /** Resolves with the function that gives the slot back (call it exactly once). */
  acquire(signal?: AbortSignal): Promise<() => void>;
  /** Holders now, and callers waiting. */
  readonly active: number;
  readonly waiting: number;
  /** Callers that had to wait for a slot so far, and their summed wait (ms). */
  readonly waited: number;
  readonly waitedMs: number;
}

interface Waiter {
  readonly grant: () => void;
}

export function createConcurrencyGate(max: number, now = () => performance.now()): ConcurrencyGate {
  if (!(max >= 1)) throw new RangeError(`concurrency limit must be at least 1, got ${max}`);
  let active = 0;
  let waited = 0;
  let waitedMs = 0;
  const queue: Waiter[] = [];

  const release = () => {
    const next = queue.shift();
    if (next) next.grant();
    else active--;
  };
  const once = () => {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      release();
    };
  };

  return {
    get active() {
      return active;
    },
    get waiting() {
      return queue.length;
    },
    get waited() {
      return waited;
    },
    get waitedMs() {
      return waitedMs;
    },
    acquire(signal) {
      signal?.throwIfAborted();
      if (active < max) {
        active++;
        return Promise.resolve(once());
      }
      const since = now();
      return new Promise((resolve, reject) => {
        const onAbort = () => {
          const i = queue.indexOf(waiter);
          if (i >= 0) queue.splice(i, 1);
          reject(signal?.reason);
        };
        // A released slot passes straight to the next waiter: `active` stays as it is.
        const waiter: Waiter = {
          grant: () => {
            signal?.removeEventListener("abort", onAbort);
            waited++;
            waitedMs += now() - since;
            resolve(once());
          },
        };
        queue.push(waiter);
        signal?.addEventListener("abort", onAbort, { once: true });
      });
    },
  };
}
