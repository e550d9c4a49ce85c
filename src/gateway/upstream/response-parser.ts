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
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

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
    pending =
      pending.length === 0
        ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
        : Buffer.concat([pending, chunk]);
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
  const status = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: (.*))?$/.exec(text.slice(0, eol));
  if (status === null) throw new ProtocolError("malformed status line");
  const headers: [string, string][] = [];
  let closes = false;
  let contentLength: string | undefined;
  for (let start = eol + 2; start < text.length; start = eol + 2) {
    eol = text.indexOf("\r\n", start);
    if (eol === -1) eol = text.length;
    const colon = text.indexOf(":", start);
    if (colon <= start || colon > eol) throw new ProtocolError("malformed header field");
    const name = text.slice(start, colon).toLowerCase();
    // No obsolete line folding (§5.2) and no whitespace before the colon (§5.1): both are smuggling tools.
    if (!TOKEN.test(name)) throw new ProtocolError("malformed header field");
    const value = text.slice(colon + 1, eol).trim();
    if (value.includes("\n") || value.includes("\0")) throw new ProtocolError("malformed header value");
    headers.push([name, value]);
    if (name === "connection" && /(^|,)\s*close\s*(,|$)/i.test(value)) closes = true;
    else if (name === "content-length") {
      if (contentLength !== undefined && contentLength !== value)
        throw new ProtocolError("conflicting Content-Length");
      if (!/^\d{1,15}$/.test(value)) throw new ProtocolError("malformed Content-Length");
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
