/**
 * Leader election on a `coordination.k8s.io/v1` Lease, with client-go's rules:
 * - a candidate takes the Lease when it is free (no holder) or when the record it observed has not
 *   changed for `leaseDurationMs` of *its own monotonic clock* — other clocks are never trusted;
 * - every write carries the resourceVersion it read, so two candidates can never both win;
 * - the leader renews every `retryPeriodMs`; if no renewal succeeds for `renewDeadlineMs` it stops
 *   leading at once (its `signal` aborts) — before any candidate can consider the Lease expired,
 *   because `renewDeadlineMs < leaseDurationMs`; it also stops as soon as it sees another holder;
 * - `stop()` releases the Lease (empty holder) so a candidate takes over at its next retry.
 */
import type { V1Lease } from "@kubernetes/client-node";
import { type Clock, systemClock } from "./clock";
import type { KubeClient } from "./kube-client";
import { isAlreadyExists, isConflict, isNotFound } from "./kube-error";
import type { Wire } from "./kube-object";
import { LEASES } from "./resources";

type Lease = Wire<V1Lease>;

export interface LeaderElectionOptions {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly name: string;
  /** Unique per process; see {@link leaderIdentity}. */
  readonly identity: string;
  readonly leaseDurationMs?: number; // default 15 s
  readonly renewDeadlineMs?: number; // default 10 s
  readonly retryPeriodMs?: number; // default 2 s
  /** Called on becoming leader; `signal` aborts when leadership ends. */
  readonly onStartedLeading: (signal: AbortSignal) => void;
  /** Called once leadership has ended (lost, or released by `stop()`). */
  readonly onStoppedLeading?: () => void;
  readonly onError?: (err: unknown) => void;
  readonly clock?: Clock;
  readonly random?: () => number;
}

export interface LeaderElector {
  /** Campaigns (and leads, and campaigns again after losing) until `stop()`. */
  start(): void;
  /** Stops; releases the Lease if held. */
  stop(): Promise<void>;
  isLeader(): boolean;
}

/** A holder identity: the pod name plus a random suffix, so a restarted pod is a new candidate. */
export function leaderIdentity(podName: string, random: () => number = Math.random): string {
  const suffix = Array.from({ length: 8 }, () => Math.floor(random() * 16).toString(16)).join("");
  return `${podName}_${suffix}`;
}

/** MicroTime as the apiserver parses it: RFC 3339 with exactly six fractional digits. */
export const microTime = (ms: number): string => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");

export function createLeaderElector(opts: LeaderElectionOptions): LeaderElector {
  const clock = opts.clock ?? systemClock;
  const random = opts.random ?? Math.random;
  const leaseMs = opts.leaseDurationMs ?? 15_000;
  const renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
  const retryMs = opts.retryPeriodMs ?? 2_000;
  if (!(renewDeadlineMs < leaseMs && retryMs < renewDeadlineMs)) {
    throw new Error("leader election needs retryPeriod < renewDeadline < leaseDuration");
  }
  const leases = opts.client.resource(LEASES);
  const stopper = new AbortController();
  let observed: { record: string; at: number } | undefined;
  let leading: AbortController | undefined;
  let lastRenew = 0;
  let supplanted = false;
  let running: Promise<void> | undefined;

  /** One attempt to acquire or renew; true when we hold the Lease afterwards. */
  async function tryAcquireOrRenew(timeoutMs: number): Promise<boolean> {
    const call = { namespace: opts.namespace, signal: stopper.signal, timeoutMs };
    const lease = await leases.get(opts.name, call).catch((err: unknown) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
    if (lease === undefined) return write(undefined, call);
    const spec = lease.spec ?? {};
    const record = JSON.stringify([
      spec.holderIdentity,
      spec.renewTime,
      spec.acquireTime,
      spec.leaseTransitions,
    ]);
    if (observed?.record !== record) observed = { record, at: clock.monotonic() };
    const holder = spec.holderIdentity ?? "";
    if (holder !== "" && holder !== opts.identity) {
      // Someone else holds it. A leader that sees this has lost and must not grab it back.
      if (leading) supplanted = true;
      if (leading || clock.monotonic() - observed.at < leaseMs) return false;
    }
    return write(lease, call);
  }

  /** Creates the Lease, or updates it under its resourceVersion; a lost race is `false`, not an error. */
  async function write(
    lease: Lease | undefined,
    call: { namespace: string; signal: AbortSignal; timeoutMs: number },
  ) {
    const now = microTime(clock.now());
    const spec = lease?.spec ?? {};
    const ours = lease !== undefined && spec.holderIdentity === opts.identity;
    const next: Lease = {
      metadata: lease?.metadata ?? { name: opts.name, namespace: opts.namespace },
      spec: {
        ...spec,
        holderIdentity: opts.identity,
        leaseDurationSeconds: Math.ceil(leaseMs / 1000),
        renewTime: now,
        acquireTime: ours ? (spec.acquireTime ?? now) : now,
        leaseTransitions: lease === undefined ? 0 : (spec.leaseTransitions ?? 0) + (ours ? 0 : 1),
      },
    };
    try {
      await (lease === undefined ? leases.create(next, call) : leases.update(next, call));
      return true;
    } catch (err) {
      if (isConflict(err) || isAlreadyExists(err)) return false;
      throw err;
    }
  }

  const attempt = async (timeoutMs: number): Promise<boolean> => {
    try {
      return await tryAcquireOrRenew(timeoutMs);
    } catch (err) {
      if (!stopper.signal.aborted) opts.onError?.(err);
      return false;
    }
  };
  const jittered = () => retryMs * (1 + 0.2 * random());

  async function lead(): Promise<void> {
    leading = new AbortController();
    supplanted = false;
    lastRenew = clock.monotonic();
    opts.onStartedLeading(leading.signal);
    while (!stopper.signal.aborted) {
      await clock.sleep(retryMs, stopper.signal).catch(() => {});
      if (stopper.signal.aborted) break;
      const left = renewDeadlineMs - (clock.monotonic() - lastRenew);
      if (left > 0 && (await attempt(Math.max(1, left)))) lastRenew = clock.monotonic();
      if (supplanted || clock.monotonic() - lastRenew >= renewDeadlineMs) break;
    }
    const ended = leading;
    leading = undefined;
    ended.abort(new Error("leadership lost"));
    if (stopper.signal.aborted) await release();
    opts.onStoppedLeading?.();
  }

  /** Gives the Lease up so the next candidate need not wait for it to expire. */
  async function release(): Promise<void> {
    try {
      const lease = await leases.get(opts.name, { namespace: opts.namespace, timeoutMs: retryMs });
      if (lease.spec?.holderIdentity !== opts.identity) return;
      const now = microTime(clock.now());
      const spec = {
        ...lease.spec,
        holderIdentity: "",
        leaseDurationSeconds: 1,
        renewTime: now,
        acquireTime: now,
      };
      await leases.update({ ...lease, spec }, { namespace: opts.namespace, timeoutMs: retryMs });
    } catch (err) {
      opts.onError?.(err);
    }
  }

  async function campaign(): Promise<void> {
    while (!stopper.signal.aborted) {
      if (await attempt(retryMs)) await lead();
      else await clock.sleep(jittered(), stopper.signal).catch(() => {});
    }
  }

  return {
    start() {
      if (!running && !stopper.signal.aborted) running = campaign();
    },
    async stop() {
      stopper.abort(new Error("leader elector stopped"));
      await running;
    },
    isLeader: () => leading !== undefined && clock.monotonic() - lastRenew < renewDeadlineMs,
  };
}
