/**
 * The kubelet's restart back-off for one container: the first restart is immediate, then the delay
 * doubles from `baseMs` (10 s in the kubelet) up to `maxMs` (5 min); a container that ran for longer
 * than twice the maximum before exiting starts over with an immediate restart.
 */
export interface CrashBackoffPolicy {
  readonly baseMs: number;
  readonly maxMs: number;
}

export interface CrashBackoff {
  /** Delay before the next start, given how long the last run lasted. */
  next(ranForMs: number): number;
}

export function createCrashBackoff(policy: CrashBackoffPolicy): CrashBackoff {
  let restarts = 0;
  return {
    next(ranForMs) {
      if (ranForMs > 2 * policy.maxMs) restarts = 0;
      const delay = restarts === 0 ? 0 : Math.min(policy.maxMs, policy.baseMs * 2 ** (restarts - 1));
      restarts++;
      return delay;
    },
  };
}
