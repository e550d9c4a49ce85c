/**
 * Which sandbox each claim holds, as this process wrote it, until the informer caches catch up. After the
 * claim controller's one conditional write (adoption) or cold create, the caches show the binding only a
 * watch round trip later, and the claim's own status a status write after that. The session controller
 * reads this to mirror an adopted sandbox at once, in parallel with the claim's status write, rather than
 * one write later.
 *
 * Purely an accelerator over Kubernetes state: every entry names an object the apiserver accepted, readers
 * check the sandbox's own claimRef before trusting it, and a lost entry (restart, expiry) only means the
 * watch delivers the same fact a little later.
 */
import type { Clock } from "../../kube/clock";

export interface ClaimBindings {
  /** The claim with this uid now holds the named sandbox. */
  set(claimUid: string, sandboxName: string): void;
  get(claimUid: string): string | undefined;
  /** The claim's status (or the cache) says it now, or the claim is gone. */
  delete(claimUid: string): void;
}

export function createClaimBindings(clock: Clock, ttlMs = 120_000): ClaimBindings {
  const entries = new Map<string, { readonly name: string; readonly at: number }>();
  let lastSweep = clock.monotonic();
  const sweep = (now: number) => {
    if (now - lastSweep < ttlMs / 4) return;
    lastSweep = now;
    for (const [uid, e] of entries) if (now - e.at > ttlMs) entries.delete(uid);
  };
  return {
    set(claimUid, sandboxName) {
      const now = clock.monotonic();
      sweep(now);
      entries.set(claimUid, { name: sandboxName, at: now });
    },
    get: (claimUid) => entries.get(claimUid)?.name,
    delete: (claimUid) => void entries.delete(claimUid),
  };
}
