/**
 * The request side of an exchange on a pooled HTTP/1.1 connection: the head (and a buffered body) in one
 * write, or the head and then a streamed body under socket backpressure, framed by Content-Length when
 * known, else chunked (RFC 9112 §6, §7.1).
 */
import type { Socket } from "bun";
import type { ExchangeRequest } from "./http1-exchange";
import { ProtocolError } from "./response-parser";
import type { ConnectionState } from "./socket-pool";

/** The connection died before any byte of a response: a stale keep-alive connection, safe to retry. */
export class NoResponseError extends Error {
  override readonly name = "NoResponseError";
}

const encoder = new TextEncoder();
const CRLF = encoder.encode("\r\n");

export interface SendHooks {
  waitDrain(): Promise<void>;
  /** A chunk of the body went out: restart the deadline. */
  progress(): void;
}

function requestHead(req: ExchangeRequest, chunked: boolean): Uint8Array {
  // Field values are byte strings (one char per byte, RFC 9110 §5.5): latin1 writes them back byte for byte.
  return Buffer.from(requestHeadText(req, chunked), "latin1");
}

function requestHeadText(req: ExchangeRequest, chunked: boolean): string {
  let head = `${req.method} ${req.target} HTTP/1.1\r\nhost: ${req.authority}\r\n`;
  for (const [name, value] of req.headers) {
    if (name === "content-length" || name === "transfer-encoding" || name === "host") continue;
    head += `${name}: ${value}\r\n`;
  }
  if (chunked) head += "transfer-encoding: chunked\r\n";
  else if (req.body instanceof ReadableStream) head += `content-length: ${req.bodyLength}\r\n`;
  else if (req.body !== null || !["GET", "HEAD", "DELETE", "OPTIONS"].includes(req.method)) {
    head += `content-length: ${req.body?.byteLength ?? 0}\r\n`;
  }
  return `${head}\r\n`;
}

/**
 * Head and buffered body in one buffer, so they leave in one write (one segment for small requests). A
 * request that fits is assembled in a scratch buffer shared by all exchanges — the socket copies what it
 * takes before `write` returns, so no request allocates an ArrayBuffer for its head. Valid until the next
 * call.
 */
export function requestBytes(req: ExchangeRequest): Uint8Array {
  const head = requestHeadText(req, false);
  const body = req.body === null || req.body instanceof ReadableStream ? null : req.body;
  // Latin1 is one byte per char: `head.length` is its byte length.
  if (head.length + (body?.byteLength ?? 0) > scratch.length) {
    const bytes = Buffer.from(head, "latin1");
    return body === null ? bytes : Buffer.concat([bytes, body]);
  }
  const n = scratch.write(head, 0, "latin1");
  if (body !== null) scratch.set(body, n);
  return scratch.subarray(0, n + (body?.byteLength ?? 0));
}

const scratch = Buffer.allocUnsafe(64 * 1024);

/** A request with a streamed body: the head, then the body with backpressure. */
export async function sendRequest(
  socket: Socket<ConnectionState>,
  req: ExchangeRequest,
  body: ReadableStream<Uint8Array>,
  hooks: SendHooks,
): Promise<void> {
  const chunked = req.bodyLength === undefined;
  const head = requestHead(req, chunked);
  await writeAll(socket, head, hooks);
  let sent = 0;
  for await (const chunk of body) {
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
export async function writeAll(
  socket: Socket<ConnectionState>,
  bytes: Uint8Array,
  hooks: SendHooks,
): Promise<void> {
  let offset = 0;
  while (offset < bytes.byteLength) {
    const written = socket.write(bytes, offset, bytes.byteLength - offset);
    if (written < 0) throw new NoResponseError("connection closed while sending the request");
    offset += written;
    if (offset < bytes.byteLength) await hooks.waitDrain();
  }
}

/**
 * Frees a fully written chunk's memory now rather than at some later GC: the request body's chunks are
 * ours alone, and detaching them keeps a large upload's footprint flat.
 */
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
