/**
 * A Server-Sent Events response (WHATWG HTML §9.2). A comment goes out at once and again on an interval,
 * so the client sees the stream open before the run says anything and proxies keep an idle stream open.
 * When the client goes away the stream is cancelled and the producer's signal aborts.
 *
 * The body is one of Bun's direct streams, and every event is flushed as it is written. With a queued
 * stream Bun sends the status line and our headers at once but holds the rest of the head and the queued
 * opening comment back for a later write: under load that was seen holding the first event (and the head)
 * until the run ended.
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
  const abort = new AbortController();
  let open = true;
  const body = new ReadableStream({
    type: "direct",
    async pull(controller) {
      const push = (text: string) => {
        if (!open) return;
        // Past the socket's buffer (a slow client) Bun keeps the bytes; a run's output is capped anyway.
        const written = controller.write(text);
        if (written instanceof Promise) written.catch(() => undefined);
        controller.flush();
      };
      const send: SendEvent = (event, data) => push(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      push(": korokd\n\n");
      const heartbeat = setInterval(() => push(": ping\n\n"), options.heartbeatMs);
      try {
        await produce(send, abort.signal);
      } catch (err) {
        const known = err instanceof KorokdError ? err : new KorokdError("internal", "internal error");
        if (known.status >= 500) options.onError(err);
        send("error", known.toBody());
      } finally {
        clearInterval(heartbeat);
        if (open) controller.close();
        open = false;
      }
    },
    cancel() {
      open = false;
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
