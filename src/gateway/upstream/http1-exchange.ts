/**
 * One request and its response on one pooled HTTP/1.1 connection. The request head (and a buffered body)
 * go out in one write; a streamed body follows with socket backpressure, framed by Content-Length when
 * known, else chunked. The response head resolves the promise; a body that already arrived complete is
 * handed over as bytes (Bun's fastest path), otherwise as a stream that pauses the socket while the client
 * reads slowly. `onFinish` runs exactly once, when the exchange is over for good.
 */
import type { Socket } from "bun";
import { createResponseParser, ProtocolError } from "./response-parser";
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
  readonly signal: AbortSignal;
  readonly onFinish: () => void;
}

export interface UpstreamResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Uint8Array | ReadableStream<Uint8Array> | null;
}

/** The connection died before any byte of a response: a stale keep-alive connection, safe to retry. */
export class NoResponseError extends Error {
  override readonly name = "NoResponseError";
}

export class HeadersTimeoutError extends Error {
  override readonly name = "HeadersTimeoutError";
}

const STREAM_HIGH_WATER = 256 * 1024;
const encoder = new TextEncoder();
const CRLF = encoder.encode("\r\n");

export function exchange(
  socket: Socket<ConnectionState>,
  pool: SocketPool,
  req: ExchangeRequest,
): Promise<UpstreamResponse> {
  return new Promise<UpstreamResponse>((resolve, reject) => {
    let settled = false;
    let finished = false;
    let requestSent = false;
    let sawBytes = false;
    let head: UpstreamResponse | undefined;
    let early: Uint8Array[] = [];
    let ended = false;
    let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let drained: (() => void) | undefined;
    let paused = false;

    const arm = () => {
      clearTimeout(timer);
      if (req.headersTimeoutMs !== undefined && head === undefined) {
        timer = setTimeout(
          () => fail(new HeadersTimeoutError("no response head in time")),
          req.headersTimeoutMs,
        );
      }
    };
    const finish = (reusable: boolean) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      req.signal.removeEventListener("abort", onAbort);
      if (reusable && requestSent) pool.release(socket);
      else {
        socket.data.owner = undefined;
        socket.terminate();
      }
      req.onFinish();
    };
    const fail = (err: unknown) => {
      if (!settled) {
        settled = true;
        reject(err);
      } else if (!finished) controller?.error(err);
      drained?.();
      finish(false);
    };
    const onAbort = () => fail(req.signal.reason);
    const parser = createResponseParser(req.method, {
      head(h) {
        clearTimeout(timer);
        head = { status: h.status, statusText: h.statusText, headers: h.headers, body: null };
      },
      data(chunk) {
        if (controller === undefined) early.push(chunk);
        else {
          controller.enqueue(chunk);
          if ((controller.desiredSize ?? 1) <= 0 && !paused) {
            paused = true;
            socket.pause();
          }
        }
      },
      end() {
        ended = true;
        controller?.close();
      },
    });
    /** After bytes were parsed: hand the response over once its head is known. */
    const progress = () => {
      if (head !== undefined && !settled) {
        settled = true;
        resolve({ ...head, body: initialBody() });
      }
      if (ended && !finished) finish(parser.reusable);
    };
    const initialBody = (): UpstreamResponse["body"] => {
      if (ended) {
        const bytes =
          early.length === 0 ? null : early.length === 1 ? (early[0] as Uint8Array) : Buffer.concat(early);
        early = [];
        return bytes;
      }
      return new ReadableStream<Uint8Array>(
        {
          start(c) {
            controller = c;
            for (const chunk of early) c.enqueue(chunk);
            early = [];
          },
          pull() {
            if (paused) {
              paused = false;
              socket.resume();
            }
          },
          cancel() {
            // The client went away mid-body: the connection cannot be reused.
            finish(false);
          },
        },
        { highWaterMark: STREAM_HIGH_WATER, size: (chunk) => chunk?.byteLength ?? 0 },
      );
    };

    socket.data.owner = {
      data(chunk) {
        sawBytes = true;
        try {
          parser.push(chunk);
        } catch (err) {
          return fail(err);
        }
        progress();
      },
      drain() {
        drained?.();
      },
      closed(error) {
        if (finished) return;
        try {
          parser.close();
        } catch (err) {
          return fail(
            sawBytes
              ? (error ?? err)
              : new NoResponseError("connection closed before a response", { cause: error }),
          );
        }
        progress();
      },
    };
    if (req.signal.aborted) return onAbort();
    req.signal.addEventListener("abort", onAbort, { once: true });
    arm();
    void send(socket, req, {
      waitDrain: () => new Promise<void>((r) => (drained = r)),
      progress: arm,
    }).then(
      () => {
        requestSent = true;
        if (ended && !finished) finish(parser.reusable);
      },
      (err: unknown) => fail(err),
    );
  });
}

interface SendHooks {
  waitDrain(): Promise<void>;
  /** A chunk of the body went out: restart the deadline. */
  progress(): void;
}

async function send(socket: Socket<ConnectionState>, req: ExchangeRequest, hooks: SendHooks): Promise<void> {
  const streamed = req.body instanceof ReadableStream;
  const chunked = streamed && req.bodyLength === undefined;
  let head = `${req.method} ${req.target} HTTP/1.1\r\nhost: ${req.authority}\r\n`;
  for (const [name, value] of req.headers) {
    if (name === "content-length" || name === "transfer-encoding" || name === "host") continue;
    head += `${name}: ${value}\r\n`;
  }
  if (chunked) head += "transfer-encoding: chunked\r\n";
  else if (streamed) head += `content-length: ${req.bodyLength}\r\n`;
  else if (req.body !== null || !["GET", "HEAD", "DELETE", "OPTIONS"].includes(req.method)) {
    head += `content-length: ${req.body?.byteLength ?? 0}\r\n`;
  }
  const headBytes = encoder.encode(`${head}\r\n`);
  if (!(req.body instanceof ReadableStream)) {
    await writeAll(socket, req.body === null ? headBytes : Buffer.concat([headBytes, req.body]), hooks);
    return;
  }
  await writeAll(socket, headBytes, hooks);
  let sent = 0;
  for await (const chunk of req.body) {
    if (chunk.byteLength === 0) continue;
    sent += chunk.byteLength;
    if (!chunked && sent > (req.bodyLength as number))
      throw new ProtocolError("request body longer than its Content-Length");
    // Three writes rather than one concatenation: no copy of the chunk.
    if (chunked) await writeAll(socket, encoder.encode(`${chunk.byteLength.toString(16)}\r\n`), hooks);
    await writeAll(socket, chunk, hooks);
    if (chunked) await writeAll(socket, CRLF, hooks);
    hooks.progress();
    release(chunk);
  }
  if (chunked) await writeAll(socket, encoder.encode("0\r\n\r\n"), hooks);
  else if (sent !== req.bodyLength) throw new ProtocolError("request body shorter than its Content-Length");
}

/** Writes everything, waiting for `drain` when the socket's buffer is full (backpressure). */
async function writeAll(socket: Socket<ConnectionState>, bytes: Uint8Array, hooks: SendHooks): Promise<void> {
  let offset = 0;
  while (offset < bytes.byteLength) {
    const written = socket.write(bytes, offset, bytes.byteLength - offset);
    if (written < 0) throw new NoResponseError("connection closed while sending the request");
    offset += written;
    if (offset < bytes.byteLength) await hooks.waitDrain();
  }
}

/** Frees a fully written chunk's memory now instead of at the next GC (it is ours alone). */
function release(chunk: Uint8Array): void {
  const buffer = chunk.buffer;
  if (
    buffer instanceof ArrayBuffer &&
    chunk.byteOffset === 0 &&
    chunk.byteLength === buffer.byteLength &&
    !buffer.detached
  ) {
    buffer.transfer(0);
  }
}
