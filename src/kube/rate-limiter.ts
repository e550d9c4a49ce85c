/**
 * Client-side token bucket (client-go's QPS/burst): `burst` requests may go at once, then `qps` per
 * second. A caller reserves its token immediately (the balance may go negative) and waits out the debt,
 * so waiters are served in arrival order without a queue; an aborted wait gives its token back.
 */
import { type Clock, systemClock } from "./clock";

export interface RateLimiter {
  /** Waits until one request may be sent. Rejects with the signal's reason if it aborts first. */
  take(signal?: AbortSignal): Promise<void>;
}

export function createRateLimiter(opts: { qps: number; burst: number; clock?: Clock }): RateLimiter {
  const clock = opts.clock ?? systemClock;
  if (!(opts.qps > 0) || !Number.isFinite(opts.qps)) return { take: async () => {} };
  const burst = Math.max(1, opts.burst);
  let tokens = burst;
  let last = clock.monotonic();
  const refill = () => {
    const now = clock.monotonic();
    tokens = Math.min(burst, tokens + ((now - last) / 1000) * opts.qps);
    last = now;
  };
  return {
    async take(signal) {
      signal?.throwIfAborted();
      refill();
      tokens -= 1;
      if (tokens >= 0) return;
      try {
        await clock.sleep((-tokens / opts.qps) * 1000, signal);
      } catch (err) {
        tokens += 1;
        throw err;
      }
    },
  };
}
