/**
 * Reads a watch response (newline-delimited JSON `{type, object}`) as an async stream of events.
 * In-stream `ERROR` events (e.g. 410 Expired) are thrown as KubeError. If no byte arrives for
 * `inactivityMs` the connection is presumed half-open and the stream fails with DeadlineExceeded;
 * the apiserver's periodic bookmarks keep a healthy idle watch alive.
 */
import { KubeError, kubeErrorFromStatus } from "./kube-error";

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

export interface BookmarkObject {
  kind?: string;
  apiVersion?: string;
  metadata: { resourceVersion: string; annotations?: Record<string, string> };
}

export type WatchEvent<T> =
  | { type: WatchEventType; object: T }
  | { type: "BOOKMARK"; object: BookmarkObject };

export interface WatchStream<T> extends AsyncIterable<WatchEvent<T>> {
  /** Ends the stream; a pending iteration finishes without error. Idempotent. */
  close(): void;
}

export function readWatchStream<T>(
  res: Response,
  ctl: AbortController,
  what: string,
  inactivityMs: number,
): WatchStream<T> {
  let closed = false;
  let idle = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      idle = true;
      ctl.abort();
    }, inactivityMs);
  };
  async function* events(): AsyncGenerator<WatchEvent<T>> {
    const body = res.body;
    if (!body) return;
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    arm();
    try {
      for (;;) {
        const chunk = await reader.read().catch((err: unknown) => {
          if (closed) return { done: true as const, value: undefined };
          throw idle
            ? new KubeError(`${what}: no data for ${inactivityMs} ms`, {
                code: 0,
                reason: "DeadlineExceeded",
                request: what,
              })
            : new KubeError(`${what}: stream broken: ${(err as Error)?.message ?? err}`, {
                code: 0,
                reason: "NetworkError",
                request: what,
                cause: err,
              });
        });
        if (chunk.done) return;
        arm();
        buffer += decoder.decode(chunk.value, { stream: true });
        let nl = buffer.indexOf("\n");
        while (nl !== -1) {
          const line = buffer.slice(0, nl).trim();
          buffer = buffer.slice(nl + 1);
          if (line !== "") yield parseEvent<T>(line, what);
          nl = buffer.indexOf("\n");
        }
      }
    } finally {
      clearTimeout(timer);
      closed = true;
      ctl.abort();
      reader.releaseLock();
    }
  }
  const iterator = events();
  return {
    [Symbol.asyncIterator]: () => iterator,
    close() {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      ctl.abort();
    },
  };
}

function parseEvent<T>(line: string, what: string): WatchEvent<T> {
  let event: { type?: string; object?: unknown };
  try {
    event = JSON.parse(line);
  } catch (err) {
    throw new KubeError(`${what}: bad watch event`, {
      code: 0,
      reason: "BadResponse",
      request: what,
      cause: err,
    });
  }
  if (event.type === "ERROR") {
    const code = (event.object as { code?: number } | undefined)?.code ?? 500;
    throw kubeErrorFromStatus(code, event.object, what);
  }
  if (
    event.type === "ADDED" ||
    event.type === "MODIFIED" ||
    event.type === "DELETED" ||
    event.type === "BOOKMARK"
  ) {
    return event as WatchEvent<T>;
  }
  throw new KubeError(`${what}: unknown watch event type ${event.type}`, {
    code: 0,
    reason: "BadResponse",
    request: what,
  });
}
