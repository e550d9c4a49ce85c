/**
 * Caps concurrent executions. It never queues: a caller beyond the cap is told to come back
 * (429 + Retry-After), which keeps latency honest and memory bounded under bursts.
 */

export interface RunLimiter {
  /** A release function when a slot was free, otherwise undefined. Release is idempotent. */
  tryAcquire(): (() => void) | undefined;
  readonly active: number;
}

export function createRunLimiter(max: number): RunLimiter {
  let active = 0;
  return {
    tryAcquire() {
      if (active >= max) return undefined;
      active++;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        active--;
      };
    },
    get active() {
      return active;
    },
  };
}
