/**
 * List-then-watch, forever (client-go's reflector). The list fills the target; the watch continues from
 * the list's resourceVersion with bookmarks, so a re-watch after a dropped stream resumes exactly where
 * it stopped. resourceVersions are opaque: compared for equality only, never ordered.
 *
 * - stream ended by the server (timeoutSeconds) or cleanly closed → re-watch at once from the last RV;
 * - 410 Gone, on the watch request or inside the stream → relist; the target diffs the new list against
 *   what it holds and delivers the adds, updates and deletes that happened meanwhile;
 * - any other failure (network, 5xx, 429, half-open stream) → jittered back-off, then retry; forever;
 * - `stop()` is final: it aborts the open request and no request is started after it.
 */
import { type BackoffPolicy, createBackoff } from "./backoff";
import { type Clock, systemClock } from "./clock";
import { isGone, KubeError } from "./kube-error";
import type { KubeObject } from "./kube-object";
import type { ResourceClient } from "./resource-client";
import type { WatchEventType } from "./watch-stream";

export interface WatchTarget<T> {
  /** The complete current set, after a (re)list. */
  replace(items: readonly T[], resourceVersion: string): void;
  /** One change from the watch stream. */
  apply(type: WatchEventType, object: T): void;
}

export interface WatchLoopOptions {
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /** List page size (default 500). */
  readonly pageSize?: number;
  /** Back-off after failures (default 800 ms doubling to 30 s, jittered). */
  readonly backoff?: BackoffPolicy;
  /** A watch stream with no byte (not even a bookmark) for this long is dropped (default 150 s). */
  readonly inactivityMs?: number;
  /** Server-side watch timeout range in seconds, picked at random per watch (default 300–600). */
  readonly watchTimeoutSeconds?: readonly [number, number];
  /** Deadline of one list page request (default 60 s). */
  readonly listTimeoutMs?: number;
  readonly clock?: Clock;
  readonly random?: () => number;
  /** Failures worth logging (410 Gone included, just before the relist); the loop always carries on. */
  readonly onError?: (err: KubeError, phase: "list" | "watch") => void;
}

export interface WatchLoop {
  /** Starts the loop in the background; it runs until `stop()`. */
  start(): void;
  /** Ends the loop for good and resolves once no request is open. */
  stop(): Promise<void>;
  /** The resourceVersion the loop has seen last ("" before the first list). */
  readonly resourceVersion: string;
}

export function createWatchLoop<T extends KubeObject>(
  resource: ResourceClient<T>,
  target: WatchTarget<T>,
  opts: WatchLoopOptions = {},
): WatchLoop {
  const clock = opts.clock ?? systemClock;
  const random = opts.random ?? Math.random;
  const backoff = createBackoff(opts.backoff ?? { baseMs: 800, maxMs: 30_000 }, random);
  const [minTimeout, maxTimeout] = opts.watchTimeoutSeconds ?? [300, 600];
  const stopper = new AbortController();
  const signal = stopper.signal;
  const scope = {
    ...(opts.namespace ? { namespace: opts.namespace } : {}),
    ...(opts.labelSelector ? { labelSelector: opts.labelSelector } : {}),
    ...(opts.fieldSelector ? { fieldSelector: opts.fieldSelector } : {}),
  };
  let resourceVersion = "";
  let running: Promise<void> | undefined;

  const failed = async (err: unknown, phase: "list" | "watch") => {
    if (signal.aborted) return;
    opts.onError?.(asKubeError(err), phase);
    await clock.sleep(backoff.next(), signal).catch(() => {});
  };

  /** A 410 means our resourceVersion is too old: relist at once (no back-off), and say so. */
  const gone = (err: unknown): boolean => {
    if (!isGone(err)) return false;
    if (!signal.aborted) opts.onError?.(err as KubeError, "watch");
    return true;
  };

  async function list(): Promise<boolean> {
    try {
      const result = await resource.listAll({
        ...scope,
        limit: opts.pageSize ?? 500,
        signal,
        timeoutMs: opts.listTimeoutMs ?? 60_000,
      });
      if (signal.aborted) return false;
      resourceVersion = result.resourceVersion;
      target.replace(result.items, resourceVersion);
      return true;
    } catch (err) {
      await failed(err, "list");
      return false;
    }
  }

  /** Watches until a relist is needed (returns) or the loop stops. */
  async function watch(): Promise<void> {
    while (!signal.aborted) {
      let stream: Awaited<ReturnType<ResourceClient<T>["watch"]>>;
      try {
        stream = await resource.watch({
          ...scope,
          resourceVersion,
          allowWatchBookmarks: true,
          timeoutSeconds: Math.round(minTimeout + (maxTimeout - minTimeout) * random()),
          inactivityMs: opts.inactivityMs ?? 150_000,
          signal,
        });
      } catch (err) {
        if (gone(err)) return;
        await failed(err, "watch");
        continue;
      }
      try {
        for await (const event of stream) {
          if (signal.aborted) break;
          backoff.reset();
          if (event.type !== "BOOKMARK") target.apply(event.type, event.object);
          resourceVersion = event.object.metadata?.resourceVersion || resourceVersion;
        }
      } catch (err) {
        if (gone(err)) return;
        await failed(err, "watch");
      } finally {
        stream.close();
      }
    }
  }

  async function run(): Promise<void> {
    while (!signal.aborted) {
      if (await list()) await watch();
    }
  }

  return {
    start() {
      if (running || signal.aborted) return;
      running = run();
    },
    async stop() {
      stopper.abort(new KubeError("watch loop stopped", { code: 0, reason: "Aborted" }));
      await running;
    },
    get resourceVersion() {
      return resourceVersion;
    },
  };
}

function asKubeError(err: unknown): KubeError {
  if (err instanceof KubeError) return err;
  return new KubeError(String(err instanceof Error ? err.message : err), {
    code: 0,
    reason: "BadResponse",
    cause: err,
  });
}
