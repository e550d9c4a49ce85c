/**
 * Sends one request to a sandbox and hands back its response as a stream. The target address comes only
 * from the session's status (pod IP and port); the request contributes a path and query appended to that
 * origin, so nothing in it (`..`, `%2e%2e`, `%2f`, `@`, `//host`) can change which host is called.
 *
 * Deadlines: the sandbox must answer (response headers) within `firstByteTimeoutMs` (→ 504), plus, for a
 * large body of known length, the time to upload it at a slow-but-acceptable rate, so a large upload is
 * never cut off for being large. A body of unknown length is bounded by the client connection's idle
 * timeout instead: watching its progress would take it off Bun's native pipe, which costs ~10 MiB of
 * read-ahead per upload. After the headers a stream may last as long as the client stays. The client's
 * disconnect aborts the upstream call, so the sandbox sees its request cancelled (korokd kills the run).
 */
import { GatewayError } from "../gateway-error";

export interface ForwardTarget {
  readonly podIp: string;
  readonly port: number;
}

export interface ForwardRequest {
  readonly target: ForwardTarget;
  /** Path and query, starting with `/`, sent as is. */
  readonly pathAndQuery: string;
  readonly method: string;
  readonly headers: Headers;
  readonly body: Bun.BodyInit | null;
  readonly firstByteTimeoutMs: number;
  /** The client's request signal: aborts when the client goes away. */
  readonly clientSignal: AbortSignal;
  readonly sessionId: string;
}

const TIMED_OUT = Symbol("first byte deadline");

export function targetOrigin(target: ForwardTarget): string {
  const host = target.podIp.includes(":") ? `[${target.podIp}]` : target.podIp;
  return `http://${host}:${target.port}`;
}

export async function forwardRequest(req: ForwardRequest): Promise<Response> {
  if (!req.pathAndQuery.startsWith("/")) throw new Error("forwardRequest: path must start with /");
  const deadline = new AbortController();
  const deadlineMs = headersDeadlineMs(req);
  const timer =
    deadlineMs === undefined ? undefined : setTimeout(() => deadline.abort(TIMED_OUT), deadlineMs);
  const signal = AbortSignal.any([req.clientSignal, deadline.signal]);
  try {
    return await fetch(targetOrigin(req.target) + req.pathAndQuery, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      signal,
      redirect: "manual",
      // Bodies pass through as the sandbox encoded them (Content-Encoding and Content-Length intact).
      decompress: false,
      // Streaming request bodies (Fetch spec: half duplex).
      duplex: "half",
    } as RequestInit);
  } catch (err) {
    throw upstreamError(err, deadline.signal.aborted, req.clientSignal.aborted, req.sessionId);
  } finally {
    clearTimeout(timer);
  }
}

/** The slowest upload the deadline allows for: 1 MiB/s, in bytes per millisecond. */
const MIN_UPLOAD_BYTES_PER_MS = (1024 * 1024) / 1000;

/** Time allowed until the response headers; undefined for a streamed body of unknown length. */
function headersDeadlineMs(req: ForwardRequest): number | undefined {
  if (!(req.body instanceof ReadableStream)) return req.firstByteTimeoutMs;
  const length = Number(req.headers.get("content-length") ?? Number.NaN);
  if (!Number.isFinite(length)) return undefined;
  return req.firstByteTimeoutMs + Math.ceil(length / MIN_UPLOAD_BYTES_PER_MS);
}

function upstreamError(
  err: unknown,
  timedOut: boolean,
  clientGone: boolean,
  sessionId: string,
): GatewayError {
  const options = { cause: err, sessionId };
  if (clientGone) return new GatewayError("upstream_failed", "the client went away", options);
  if (timedOut) return new GatewayError("upstream_timeout", "the sandbox did not answer in time", options);
  const code = (err as { code?: unknown }).code;
  if (code === "ConnectionRefused" || code === "ECONNREFUSED" || code === "FailedToOpenSocket") {
    return new GatewayError("sandbox_unreachable", "the sandbox is not reachable", options);
  }
  return new GatewayError("upstream_failed", "the sandbox connection failed", options);
}

/** Whether a proxy failure means the sandbox is gone (its session should be looked up afresh). */
export function sandboxLooksGone(err: unknown): boolean {
  return err instanceof GatewayError && err.code === "sandbox_unreachable";
}
