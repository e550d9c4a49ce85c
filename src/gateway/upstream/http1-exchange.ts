/**
 * One request and its response on one pooled HTTP/1.1 connection. The request goes out through
 * `request-writer.ts` (one write when it can). The response head resolves the promise; a body that already
 * arrived complete is handed over as bytes (Bun's fastest path), otherwise as a stream that pauses the
 * socket while the client reads slowly. `onFinish` runs exactly once, when the exchange is over for good.
 */
import type { Socket } from "bun";
import { type LateWatched, watchLater } from "./late-abort-watch";
import { NoResponseError, requestBytes, type SendHooks, sendRequest, writeAll } from "./request-writer";
import { createResponseParser, type ResponseHead, type ResponseParser } from "./response-parser";
import type { ConnectionState, SocketPool } from "./socket-pool";

export interface ExchangeRequest {
  readonly method: string;
  /** Request target in origin-form (`/path?query`), already validated. */
  readonly target: string;
  /** `host:port` for the Host header. */
  readonly authority: string;
  readonly headers: Iterable<[string, string]>;
  readonly body: Uint8Array | ReadableStream<Uint8Array> | null;
  /** Length of a streamed body when the client declared it; chunked otherwise. */
  readonly bodyLength: number | undefined;
  /** Time allowed for the response head after the body went out (and between upload chunks). */
  readonly headersTimeoutMs: number | undefined;
  /** The client's signal; as a function it is asked for only if the exchange lasts (`late-abort-watch.ts`). */
  readonly signal: AbortSignal | (() => AbortSignal);
  readonly onFinish: () => void;
}

export interface UpstreamResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Uint8Array | ReadableStream<Uint8Array> | null;
}

export class HeadersTimeoutError extends Error {
  override readonly name = "HeadersTimeoutError";
}

const STREAM_HIGH_WATER = 256 * 1024;

export function exchange(
  socket: Socket<ConnectionState>,
  pool: SocketPool,
  req: ExchangeRequest,
): Promise<UpstreamResponse> {
  return new Promise<UpstreamResponse>((resolve, reject) => {
    new Exchange(socket, pool, req, resolve, reject).start();
  });
}

class Exchange implements LateWatched {
  private settled = false;
  private finished = false;
  private requestSent = false;
  private sawBytes = false;
  private head: ResponseHead | undefined;
  private early: Uint8Array[] = [];
  private ended = false;
  private controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private drained: (() => void) | undefined;
  private paused = false;
  private readonly parser: ResponseParser;
  /** The client's signal once subscribed to. */
  private signal: AbortSignal | undefined;
  private readonly onAbort = () => this.fail(this.signal?.reason);

  constructor(
    private readonly socket: Socket<ConnectionState>,
    private readonly pool: SocketPool,
    private readonly req: ExchangeRequest,
    private readonly resolve: (res: UpstreamResponse) => void,
    private readonly reject: (err: unknown) => void,
  ) {
    this.parser = createResponseParser(req.method, {
      head: (h) => {
        clearTimeout(this.timer);
        this.head = h;
      },
      data: (chunk) => this.deliver(chunk),
      end: () => {
        this.ended = true;
        this.controller?.close();
      },
    });
  }

  start(): void {
    this.socket.data.owner = {
      data: (chunk) => this.received(chunk),
      drain: () => this.drained?.(),
      closed: (error) => this.closed(error),
    };
    const signal = this.req.signal;
    if (typeof signal === "function") watchLater(this);
    else if (!this.subscribe(signal)) return;
    this.arm();
    // Most requests (no body, or a buffered one) go out in one write that the socket takes whole: no
    // promise needed. Streamed bodies and full socket buffers take the asynchronous path.
    if (!(this.req.body instanceof ReadableStream)) {
      const bytes = requestBytes(this.req);
      const written = this.socket.write(bytes);
      if (written === bytes.byteLength) {
        this.requestSent = true;
        return;
      }
      if (written < 0) {
        this.fail(new NoResponseError("connection closed while sending the request"));
        return;
      }
      // `bytes` may be the shared scratch buffer: keep a copy of what is left.
      this.send(writeAll(this.socket, Buffer.from(bytes.subarray(written)), this.sendHooks()));
      return;
    }
    this.send(sendRequest(this.socket, this.req, this.req.body, this.sendHooks()));
  }

  watch(): void {
    if (this.finished || this.signal !== undefined) return;
    const signal = this.req.signal;
    this.subscribe(typeof signal === "function" ? signal() : signal);
  }

  /** Listens for the client going away; false (and the exchange failed) when it already has. */
  private subscribe(signal: AbortSignal): boolean {
    this.signal = signal;
    if (signal.aborted) {
      this.onAbort();
      return false;
    }
    signal.addEventListener("abort", this.onAbort, { once: true });
    return true;
  }

  private sendHooks(): SendHooks {
    return {
      waitDrain: () =>
        new Promise<void>((r) => {
          this.drained = r;
        }),
      progress: () => this.arm(),
    };
  }

  private send(sending: Promise<void>): void {
    sending.then(
      () => {
        this.requestSent = true;
        if (this.ended) this.finish(this.parser.reusable);
      },
      (err: unknown) => this.fail(err),
    );
  }

  /** (Re)starts the deadline for the response head; it stops once the head arrived. */
  private arm(): void {
    clearTimeout(this.timer);
    if (this.req.headersTimeoutMs === undefined || this.head !== undefined) return;
    this.timer = setTimeout(
      () => this.fail(new HeadersTimeoutError("no response head in time")),
      this.req.headersTimeoutMs,
    );
  }

  private received(chunk: Uint8Array): void {
    this.sawBytes = true;
    try {
      this.parser.push(chunk);
    } catch (err) {
      this.fail(err);
      return;
    }
    this.settle();
  }

  private closed(error: Error | undefined): void {
    if (this.finished) return;
    try {
      this.parser.close();
    } catch (err) {
      const cause = this.sawBytes
        ? (error ?? err)
        : new NoResponseError("connection closed before a response", { cause: error });
      this.fail(cause);
      return;
    }
    this.settle();
  }

  private deliver(chunk: Uint8Array): void {
    if (this.controller === undefined) {
      this.early.push(chunk);
      return;
    }
    this.controller.enqueue(chunk);
    if ((this.controller.desiredSize ?? 1) <= 0 && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
  }

  /** After bytes were parsed: hand the response over once its head is known; finish once it ended. */
  private settle(): void {
    if (this.head !== undefined && !this.settled) {
      this.settled = true;
      const { status, statusText, headers } = this.head;
      this.resolve({ status, statusText, headers, body: this.initialBody() });
    }
    // An answer that ended before the request was fully sent leaves the connection unusable (finish
    // closes it, which also stops the upload).
    if (this.ended) this.finish(this.parser.reusable);
  }

  private initialBody(): UpstreamResponse["body"] {
    if (this.ended) {
      const parts = this.early;
      this.early = [];
      return parts.length === 0 ? null : parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts);
    }
    return new ReadableStream<Uint8Array>(
      {
        start: (c) => {
          this.controller = c;
          for (const chunk of this.early) c.enqueue(chunk);
          this.early = [];
        },
        pull: () => {
          if (!this.paused) return;
          this.paused = false;
          this.socket.resume();
        },
        // The client went away mid-body: the connection cannot be reused.
        cancel: () => this.finish(false),
      },
      { highWaterMark: STREAM_HIGH_WATER, size: (chunk) => chunk?.byteLength ?? 0 },
    );
  }

  private fail(err: unknown): void {
    if (!this.settled) {
      this.settled = true;
      this.reject(err);
    } else if (!this.finished) {
      this.controller?.error(err);
    }
    this.drained?.();
    this.finish(false);
  }

  private finish(reusable: boolean): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.timer);
    this.signal?.removeEventListener("abort", this.onAbort);
    if (reusable && this.requestSent) this.pool.release(this.socket);
    else {
      this.socket.data.owner = undefined;
      this.socket.terminate();
    }
    this.req.onFinish();
  }
}
