/**
 * A Server-Sent Events response (WHATWG HTML §9.2). A comment goes out at once, because Bun sends the
 * response headers only with the first body bytes, and again on an interval so proxies keep an idle
 * stream open. When the client goes away the stream is cancelled and the producer's signal aborts.
 */
import { KorokdError } from "../korokd-error";

export type SendEvent = (event: string, data: unknown) => void;

export interface SseOptions {
  readonly heartbeatMs: number;
  /** Sees failures after the stream started (they reach the client as an `error` event). */
  readonly onError: (err: unknown) => void;
}

export function sseResponse(
  produce: (send: SendEvent, signal: AbortSignal) => Promise<void>,
  options: SseOptions,
): Response {
  const encoder = new TextEncoder();
  const abort = new AbortController();
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let open = true;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const push = (text: string) => {
        if (open) controller.enqueue(encoder.encode(text));
      };
      const send: SendEvent = (event, data) => push(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      push(": korokd\n\n");
      heartbeat = setInterval(() => push(": ping\n\n"), options.heartbeatMs);
      void produce(send, abort.signal)
        .catch((err: unknown) => {
          const known = err instanceof KorokdError ? err : new KorokdError("internal", "internal error");
          if (known.status >= 500) options.onError(err);
          send("error", known.toBody());
        })
        .finally(() => {
          clearInterval(heartbeat);
          if (open) controller.close();
          open = false;
        });
    },
    cancel() {
      open = false;
      clearInterval(heartbeat);
      abort.abort();
    },
  });
  return new Response(body, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      "x-accel-buffering": "no",
    },
  });
}
