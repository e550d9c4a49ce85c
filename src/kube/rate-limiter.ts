/**
 * Client-side token bucket (client-go's QPS/burst): `burst` requests may go at once, then `qps` per
 * second. A caller reserves its token immediately (the balance may go negative) and waits out the debt,
 * so waiters are served in arrival order without a queue; an aborted wait gives its token back.
 */
import { type Clock, systemClock } from "./clock";

export interface RateLimiter {
  /** Waits until one request may be sent. Rejects with the signal's reason if it aborts first. */
  take(signal?: AbortSignal): Promise<void>;
  /** What the limit has cost so far: a burst that queues here never shows up at the apiserver. */
  stats(): RateLimitStats;
}

export interface RateLimitStats {
  /** Requests let through. */
  readonly taken: number;
  /** Of those, how many had to wait, and for how long in all (ms). */
  readonly delayed: number;
  readonly delayedMs: number;
  /** Requests that then waited for a free connection slot (the client's `maxInFlight`), and how long (ms). */
  readonly wireWaited?: number;
  readonly wireWaitedMs?: number;
}

export function createRateLimiter(opts: { qps: number; burst: number; clock?: Clock }): RateLimiter {
  const clock = opts.clock ?? systemClock;
  let taken = 0;
  let delayed = 0;
  let delayedMs = 0;
  const stats = () => ({ taken, delayed, delayedMs });
  if (!(opts.qps > 0) || !Number.isFinite(opts.qps))
    return {
      take: async () => {
        taken++;
      },
      stats,
    };
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
      if (tokens >= 0) {
        taken++;
        return;
      }
      const waitMs = (-tokens / opts.qps) * 1000;
      try {
        await clock.sleep(waitMs, signal);
      } catch (err) {
        tokens += 1;
        throw err;
      }
      taken++;
      delayed++;
      delayedMs += waitMs;
    },
    stats,
  };
}
