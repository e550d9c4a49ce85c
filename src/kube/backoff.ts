/**
 * Exponential back-off with full jitter: attempt n waits a uniformly random time in
 * [base·2ⁿ/2, base·2ⁿ], capped at `maxMs`. The half-floor keeps retries from bunching at zero while the
 * randomness spreads many clients apart after a shared failure (an apiserver restart).
 */
export interface BackoffPolicy {
  readonly baseMs: number;
  readonly maxMs: number;
}

export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(attempt, 30));
  return ceiling / 2 + (ceiling / 2) * random();
}

/** A back-off that remembers its attempt count until `reset()`. */
export interface Backoff {
  next(): number;
  reset(): void;
  readonly attempts: number;
}

export function createBackoff(policy: BackoffPolicy, random: () => number = Math.random): Backoff {
  let attempts = 0;
  return {
    next: () => backoffDelay(policy, attempts++, random),
    reset: () => {
      attempts = 0;
    },
    get attempts() {
      return attempts;
    },
  };
}
