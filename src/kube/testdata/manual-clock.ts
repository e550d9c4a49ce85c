/** A clock that moves only when the test says so; sleepers wake in time order as it advances. */
import type { Clock } from "../clock";

export interface ManualClock extends Clock {
  advance(ms: number): Promise<void>;
  /** Every sleep requested so far, in ms. */
  readonly sleeps: number[];
  pending(): number;
}

export function manualClock(start = 1_700_000_000_000): ManualClock {
  let t = 0;
  const sleeps: number[] = [];
  const timers: { at: number; resolve: () => void }[] = [];
  return {
    now: () => start + t,
    monotonic: () => t,
    sleeps,
    pending: () => timers.length,
    sleep(ms, signal) {
      sleeps.push(ms);
      if (signal?.aborted) return Promise.reject(signal.reason);
      return new Promise<void>((resolve, reject) => {
        const timer = { at: t + ms, resolve };
        timers.push(timer);
        signal?.addEventListener(
          "abort",
          () => {
            timers.splice(timers.indexOf(timer), 1);
            reject(signal.reason);
          },
          { once: true },
        );
      });
    },
    async advance(ms) {
      const end = t + ms;
      for (;;) {
        timers.sort((a, b) => a.at - b.at);
        const next = timers[0];
        if (!next || next.at > end) break;
        timers.shift();
        t = Math.max(t, next.at);
        next.resolve();
        await Bun.sleep(0);
      }
      t = end;
    },
  };
}
