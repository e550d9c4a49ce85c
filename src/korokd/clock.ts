/** Wall-clock time in epoch milliseconds, injected wherever expiry matters so tests can move it. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
