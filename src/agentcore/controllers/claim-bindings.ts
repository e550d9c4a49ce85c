/**
 * Which sandbox each claim holds, as this process wrote it, until the informer caches catch up. After the
 * claim controller's one conditional write (adoption) or cold create, the caches show the binding only a
 * watch round trip later, and the claim's own status a status write after that. The session controller
 * reads this to mirror an adopted sandbox at once, in parallel with the claim's status write, rather than
 * one write later. A session's pre-adoption (warm-adoption.ts) is recorded the same way, under the
 * session's uid: the holder is then the session, and the sandbox has no claimRef yet.
 *
 * Purely an accelerator over Kubernetes state: every entry names an object the apiserver accepted, readers
 * check the sandbox's own claimRef before trusting it, and a lost entry (restart, expiry) only means the
 * watch delivers the same fact a little later.
 */
import type { Sandbox } from "../../api/sandbox";
import type { Clock } from "../../kube/clock";

/** What holds a sandbox: a SandboxClaim, or (pre-adoption) a session; as the apiserver returned it. */
export interface Holder {
  readonly kind?: string | undefined;
  readonly metadata: {
    readonly name?: string | undefined;
    readonly namespace?: string | undefined;
    readonly uid?: string | undefined;
    readonly ownerReferences?:
      | readonly { readonly uid: string; readonly controller?: boolean | undefined }[]
      | undefined;
  };
}

/** Told of each binding this process wrote, with the objects as written (the sandbox as the write returned it). */
export type BindingListener = (holder: Holder, sandbox: Sandbox) => void;

export interface ClaimBindings {
  /** `holder` now holds `sandbox` (as the adoption write or cold create returned it); listeners are told. */
  bound(holder: Holder, sandbox: Sandbox): void;
  /** The claim (or pre-adopting session) with this uid now holds the named sandbox. */
  set(claimUid: string, sandboxName: string): void;
  get(claimUid: string): string | undefined;
  /** The claim's status (or the cache) says it now, or the claim is gone. */
  delete(claimUid: string): void;
  /**
   * Registers a listener for `bound`; returns the unregister function. The replica's session cache uses it
   * to answer a waiting create from the adoption write's response instead of one watch delivery later.
   */
  onBound(listener: BindingListener): () => void;
}

export function createClaimBindings(clock: Clock, ttlMs = 120_000): ClaimBindings {
  const entries = new Map<string, { readonly name: string; readonly at: number }>();
  let lastSweep = clock.monotonic();
  const sweep = (now: number) => {
    if (now - lastSweep < ttlMs / 4) return;
    lastSweep = now;
    for (const [uid, e] of entries) if (now - e.at > ttlMs) entries.delete(uid);
  };
  const listeners = new Set<BindingListener>();
  const set = (claimUid: string, sandboxName: string) => {
    const now = clock.monotonic();
    sweep(now);
    entries.set(claimUid, { name: sandboxName, at: now });
  };
  return {
    bound(holder, sandbox) {
      set(holder.metadata.uid ?? "", sandbox.metadata.name ?? "");
      for (const listener of listeners) listener(holder, sandbox);
    },
    set,
    get: (claimUid) => entries.get(claimUid)?.name,
    delete: (claimUid) => void entries.delete(claimUid),
    onBound(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
  };
}
