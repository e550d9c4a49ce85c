/**
 * An incremental HTTP/1.1 response parser (RFC 9112) for the gateway's upstream connections: the status
 * line and header fields, then the body framed by Transfer-Encoding: chunked, Content-Length, or the end
 * of the connection (§6.3). Bodies are handed out as they arrive, never collected. Anything malformed is a
 * protocol error: the connection is then unusable and the request fails with a 502.
 */

export interface ResponseHead {
  readonly status: number;
  readonly statusText: string;
  /** Field lines in order, names lower-cased. */
  readonly headers: readonly (readonly [string, string])[];
  /** Whether the connection may carry another request after this response. */
  readonly keepAlive: boolean;
  /** Body length when framed by Content-Length; undefined otherwise. */
  readonly contentLength: number | undefined;
}

export interface ParserSink {
  head(head: ResponseHead): void;
  data(chunk: Uint8Array): void;
  end(): void;
}

export class ProtocolError extends Error {
  override readonly name = "ProtocolError";
}

const MAX_HEAD_BYTES = 64 * 1024;
const CRLF_CRLF = Buffer.from("\r\n\r\n");

type State =
  | { kind: "head" }
  | { kind: "fixed"; left: number }
  | { kind: "chunk-size" }
  | { kind: "chunk-data"; left: number }
  | { kind: "chunk-crlf" }
  | { kind: "trailers" }
  | { kind: "until-close" }
  | { kind: "done" };

export interface ResponseParser {
  /** Feeds bytes; throws ProtocolError. Bytes after the end of the response are a protocol error. */
  push(chunk: Uint8Array): void;
  /** The connection closed: ends a close-delimited body, else throws if the response is incomplete. */
  close(): void;
  readonly done: boolean;
  /** Done, and the connection may carry the next request. */
  readonly reusable: boolean;
}

/** `requestMethod` matters: a response to HEAD has no body whatever its headers say. */
export function createResponseParser(requestMethod: string, sink: ParserSink): ResponseParser {
  let state: State = { kind: "head" };
  let pending: Buffer = Buffer.alloc(0);
  let keepAlive = false;
  const noBody = requestMethod === "HEAD";

  const take = (chunk: Uint8Array) => {
    if (pending.length > 0) pending = Buffer.concat([pending, chunk]);
    // Bun's sockets deliver Buffers: a view of one is only needed for other byte arrays.
    else
      pending = Buffer.isBuffer(chunk)
        ? chunk
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  };

  /** Runs the state machine over `pending` until it needs more bytes. */
  function run(): void {
    for (;;) {
      switch (state.kind) {
        case "head": {
          const end = pending.indexOf(CRLF_CRLF);
          if (end === -1) {
            if (pending.length > MAX_HEAD_BYTES) throw new ProtocolError("response head too large");
            return;
          }
          const head = parseHead(pending.subarray(0, end).toString("latin1"));
          pending = pending.subarray(end + 4);
          // No Upgrade is ever sent on these connections, so a 101 is a protocol violation.
          if (head.status === 101) throw new ProtocolError("unexpected 101 Switching Protocols");
          if (head.status < 200) continue; // interim response (e.g. 100 Continue)
          state = bodyState(head, noBody);
          keepAlive = head.keepAlive && state.kind !== "until-close";
          sink.head(head);
          if (state.kind === "done") sink.end();
          continue;
        }
        case "fixed": {
          if (pending.length === 0) return;
          const n = Math.min(state.left, pending.length);
          sink.data(pending.subarray(0, n));
          pending = pending.subarray(n);
          state = state.left === n ? { kind: "done" } : { kind: "fixed", left: state.left - n };
          if (state.kind === "done") sink.end();
          continue;
        }
        case "chunk-size": {
          const eol = pending.indexOf("\r\n");
          if (eol === -1) {
            if (pending.length > 1024) throw new ProtocolError("chunk size line too long");
            return;
          }
          const size = /^([0-9A-Fa-f]{1,12})[ \t]*(;.*)?$/.exec(pending.subarray(0, eol).toString("latin1"));
          if (size === null) throw new ProtocolError("malformed chunk size");
          pending = pending.subarray(eol + 2);
          const n = Number.parseInt(size[1] as string, 16);
          state = n === 0 ? { kind: "trailers" } : { kind: "chunk-data", left: n };
          continue;
        }
        case "chunk-data": {
          if (pending.length === 0) return;
          const n = Math.min(state.left, pending.length);
          sink.data(pending.subarray(0, n));
          pending = pending.subarray(n);
          state = state.left === n ? { kind: "chunk-crlf" } : { kind: "chunk-data", left: state.left - n };
          continue;
        }
        case "chunk-crlf": {
          if (pending.length < 2) return;
          if (pending[0] !== 13 || pending[1] !== 10) throw new ProtocolError("chunk not followed by CRLF");
          pending = pending.subarray(2);
          state = { kind: "chunk-size" };
          continue;
        }
        case "trailers": {
          // Trailer fields are read and dropped (the proxy does not forward trailers).
          const eol = pending.indexOf("\r\n");
          if (eol === -1) {
            if (pending.length > MAX_HEAD_BYTES) throw new ProtocolError("trailers too large");
            return;
          }
          pending = pending.subarray(eol + 2);
          if (eol === 0) {
            state = { kind: "done" };
            sink.end();
          }
          continue;
        }
        case "until-close": {
          if (pending.length > 0) sink.data(pending);
          pending = Buffer.alloc(0);
          return;
        }
        case "done":
          if (pending.length > 0) throw new ProtocolError("bytes after the end of the response");
          return;
      }
    }
  }

  return {
    push(chunk) {
      take(chunk);
      run();
    },
    close() {
      if (state.kind === "until-close") {
        state = { kind: "done" };
        sink.end();
      } else if (state.kind !== "done") {
        throw new ProtocolError("connection closed before the response was complete");
      }
    },
    get done() {
      return state.kind === "done";
    },
    get reusable() {
      return state.kind === "done" && keepAlive && pending.length === 0;
    },
  };
}

function parseHead(text: string): ResponseHead {
  let eol = text.indexOf("\r\n");
  if (eol === -1) eol = text.length;
  const status = STATUS_LINE.exec(text.slice(0, eol));
  if (status === null) throw new ProtocolError("malformed status line");
  const headers: [string, string][] = [];
  let closes = false;
  let contentLength: string | undefined;
  for (let start = eol + 2; start < text.length; start = eol + 2) {
    eol = text.indexOf("\r\n", start);
    if (eol === -1) eol = text.length;
    const colon = text.indexOf(":", start);
    if (colon <= start || colon > eol) throw new ProtocolError("malformed header field");
    const name = fieldName(text, start, colon);
    const value = fieldValue(text, colon + 1, eol);
    headers.push([name, value]);
    if (name === "connection" && CLOSE_TOKEN.test(value)) closes = true;
    else if (name === "content-length") {
      if (contentLength !== undefined && contentLength !== value)
        throw new ProtocolError("conflicting Content-Length");
      if (!DECIMAL.test(value)) throw new ProtocolError("malformed Content-Length");
      contentLength = value;
    }
  }
  return {
    status: Number(status[2]),
    statusText: status[3] ?? "",
    headers,
    keepAlive: status[1] === "1" && !closes,
    contentLength: contentLength === undefined ? undefined : Number(contentLength),
  };
}

const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: (.*))?$/;
const CLOSE_TOKEN = /(^|,)\s*close\s*(,|$)/i;
const DECIMAL = /^\d{1,15}$/;
/** Per ASCII code: 1 for a token character (RFC 9110 §5.6.2), 2 for an upper-case letter, else 0. */
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz") TCHAR[c.charCodeAt(0)] = 1;
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZ") TCHAR[c.charCodeAt(0)] = 2;

/**
 * A field name, lower-cased. Only token characters: no obsolete line folding (§5.2) and no whitespace
 * before the colon (§5.1), both being smuggling tools. Checked character by character (this runs for
 * every header of every response; regular expressions and unconditional case mapping cost several times
 * more).
 */
function fieldName(text: string, start: number, end: number): string {
  let upper = false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    const kind = c < 128 ? (TCHAR[c] as number) : 0;
    if (kind === 0) throw new ProtocolError("malformed header field");
    if (kind === 2) upper = true;
  }
  const name = text.slice(start, end);
  return upper ? name.toLowerCase() : name;
}

/** A field value without surrounding whitespace (SP, HTAB); NUL and bare LF are refused. */
function fieldValue(text: string, start: number, end: number): string {
  while (start < end && isOws(text.charCodeAt(start))) start++;
  while (end > start && isOws(text.charCodeAt(end - 1))) end--;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 0 || c === 10) throw new ProtocolError("malformed header value");
  }
  return text.slice(start, end);
}

function isOws(c: number): boolean {
  return c === 32 || c === 9;
}

function bodyState(head: ResponseHead, noBody: boolean): State {
  if (noBody || head.status === 204 || head.status === 304) return { kind: "done" };
  const te = head.headers.filter(([n]) => n === "transfer-encoding").map(([, v]) => v.toLowerCase());
  if (te.length > 0) {
    const codings = te
      .join(",")
      .split(",")
      .map((t) => t.trim());
    // Chunked must be the final coding (§6.3); Transfer-Encoding overrides Content-Length.
    if (codings.at(-1) === "chunked") return { kind: "chunk-size" };
    return { kind: "until-close" };
  }
  if (head.contentLength !== undefined)
    return head.contentLength === 0 ? { kind: "done" } : { kind: "fixed", left: head.contentLength };
  return { kind: "until-close" };
}
