/**
 * A keyed work queue for controllers (client-go's workqueue semantics, plus the worker loop):
 * - a key is queued at most once however often it is added;
 * - a key is never handled by two workers at once; adding it while it is being handled queues it again
 *   for after the current run, so the latest state is always reconciled;
 * - a failed run is retried after a per-key exponential back-off (`baseMs·2ⁿ`, capped); a successful one
 *   resets it; a handler may ask for a later run with `{ requeueAfterMs }` (deadlines, polling);
 * - `shutdown()` stops taking work, lets in-flight runs finish (aborting their signal at the deadline)
 *   and drops what was still waiting: the informers rebuild it on the next start.
 */
import type { BackoffPolicy } from "./backoff";
import { type Clock, systemClock } from "./clock";

/** What a handler may return: nothing (done), or when to run the key again. */
// biome-ignore lint/suspicious/noConfusingVoidType: lets `async` handlers without a return statement type-check.
export type HandlerResult = void | { readonly requeueAfterMs: number };

export interface WorkQueueOptions<K> {
  /** Runs one key; throwing schedules a back-off retry. `signal` aborts at the shutdown deadline. */
  readonly handler: (key: K, signal: AbortSignal) => Promise<HandlerResult>;
  /** Concurrent workers (default 1). */
  readonly workers?: number;
  /** Per-key back-off after failures (default 5 ms doubling to 5 min). */
  readonly backoff?: BackoffPolicy;
  readonly clock?: Clock;
  readonly onError?: (key: K, err: unknown, failures: number) => void;
}

export interface WorkQueue<K> {
  /** Starts the workers. */
  start(): void;
  /** Queues `key` now (deduplicated). Ignored after shutdown. */
  add(key: K): void;
  /** Queues `key` after `ms`; an earlier pending requeue of the same key wins. */
  requeueAfter(key: K, ms: number): void;
  /** Queues `key` after its back-off delay and counts one more failure. */
  addRateLimited(key: K): void;
  /** Resets the key's failure count (its back-off). */
  forget(key: K): void;
  failures(key: K): number;
  /** Keys waiting to run now (not counting delayed or running ones). */
  readonly length: number;
  /** Stops accepting work; resolves when in-flight runs have finished. */
  shutdown(deadlineMs?: number): Promise<void>;
}

export function createWorkQueue<K>(opts: WorkQueueOptions<K>): WorkQueue<K> {
  const clock = opts.clock ?? systemClock;
  const policy = opts.backoff ?? { baseMs: 5, maxMs: 300_000 };
  const queue = new Set<K>(); // insertion-ordered: FIFO
  const dirty = new Set<K>(); // needs a run (queued, or queued-after-current-run)
  const processing = new Set<K>();
  const failures = new Map<K, number>();
  const delayed = new Map<K, { at: number; cancel: AbortController }>();
  const idle: (() => void)[] = [];
  const abortRuns = new AbortController();
  let closed = false;
  let workers: Promise<void>[] = [];

  const wake = () => idle.shift()?.();
  const add = (key: K) => {
    if (closed || dirty.has(key)) return;
    dirty.add(key);
    if (processing.has(key)) return;
    queue.add(key);
    wake();
  };
  const requeueAfter = (key: K, ms: number) => {
    if (closed) return;
    if (ms <= 0) return add(key);
    const at = clock.monotonic() + ms;
    const pending = delayed.get(key);
    if (pending && pending.at <= at) return;
    pending?.cancel.abort();
    const cancel = new AbortController();
    delayed.set(key, { at, cancel });
    clock.sleep(ms, cancel.signal).then(
      () => {
        delayed.delete(key);
        add(key);
      },
      () => {},
    );
  };

  const next = async (): Promise<K | undefined> => {
    while (!closed && queue.size === 0) await new Promise<void>((resolve) => idle.push(resolve));
    if (closed) return undefined;
    const key = queue.values().next().value as K;
    queue.delete(key);
    dirty.delete(key);
    processing.add(key);
    return key;
  };

  const runOne = async (key: K) => {
    try {
      const result = await opts.handler(key, abortRuns.signal);
      failures.delete(key);
      if (result && result.requeueAfterMs >= 0) requeueAfter(key, result.requeueAfterMs);
    } catch (err) {
      const n = (failures.get(key) ?? 0) + 1;
      opts.onError?.(key, err, n);
      self.addRateLimited(key);
    } finally {
      processing.delete(key);
      if (dirty.has(key) && !closed) {
        queue.add(key);
        wake();
      }
    }
  };

  const worker = async () => {
    for (let key = await next(); key !== undefined; key = await next()) await runOne(key);
  };

  const self: WorkQueue<K> = {
    start() {
      if (workers.length > 0 || closed) return;
      workers = Array.from({ length: Math.max(1, opts.workers ?? 1) }, worker);
    },
    add,
    requeueAfter,
    addRateLimited(key) {
      const n = failures.get(key) ?? 0;
      failures.set(key, n + 1);
      requeueAfter(key, Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(n, 40)));
    },
    forget: (key) => void failures.delete(key),
    failures: (key) => failures.get(key) ?? 0,
    get length() {
      return queue.size;
    },
    async shutdown(deadlineMs = 30_000) {
      closed = true;
      for (const { cancel } of delayed.values()) cancel.abort();
      delayed.clear();
      queue.clear();
      for (const resolve of idle.splice(0)) resolve();
      const timer = setTimeout(() => abortRuns.abort(new Error("work queue shut down")), deadlineMs);
      try {
        await Promise.all(workers);
      } finally {
        clearTimeout(timer);
      }
    },
  };
  return self;
}
