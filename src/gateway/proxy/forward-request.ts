/**
 * Sends one request to a sandbox and hands back its response. The target address comes only from the
 * session's status (pod IP and port); the request contributes a path and query sent as the request target
 * to that address, so nothing in it (`..`, `%2e%2e`, `%2f`, `@`, `//host`) can change which host is called.
 *
 * Deadlines: the sandbox must answer (response head) within `firstByteTimeoutMs` after the request went
 * out, and a streamed upload must make progress at least that often (→ 504); a large upload is never cut
 * off for being large. After the head a stream may last as long as the client stays. The client going away
 * aborts the exchange, so the sandbox sees its request cancelled (korokd then kills the run).
 */
import { GatewayError } from "../gateway-error";
import { HeadersTimeoutError, type UpstreamResponse } from "../upstream/http1-exchange";
import { ConnectTimeoutError } from "../upstream/socket-pool";
import { InvalidTargetError, type UpstreamClient } from "../upstream/upstream-client";
import type { FieldLines } from "./proxy-headers";

export interface ForwardTarget {
  readonly podIp: string;
  readonly port: number;
}

export interface ForwardRequest {
  readonly target: ForwardTarget;
  /** Path and query, starting with `/`, sent as is. */
  readonly pathAndQuery: string;
  readonly method: string;
  readonly headers: FieldLines;
  readonly body: Uint8Array | string | ReadableStream<Uint8Array> | null;
  /** Declared length of a streamed body; undefined sends it chunked. */
  readonly bodyLength: number | undefined;
  readonly firstByteTimeoutMs: number;
  /**
   * The client's request signal (aborts when the client goes away), asked for only when needed: taking
   * a server request's signal has a cost, and most exchanges end before it could matter.
   */
  readonly clientSignal: () => AbortSignal;
  readonly sessionId: string;
  /** Runs once when the exchange is over (body delivered, failed or abandoned). */
  readonly onFinish: () => void;
}

export function targetOrigin(target: ForwardTarget): string {
  const host = target.podIp.includes(":") ? `[${target.podIp}]` : target.podIp;
  return `http://${host}:${target.port}`;
}

export async function forwardRequest(client: UpstreamClient, req: ForwardRequest): Promise<UpstreamResponse> {
  try {
    return await client.request({
      host: req.target.podIp,
      port: req.target.port,
      method: req.method,
      target: req.pathAndQuery,
      headers: req.headers,
      body: req.body,
      bodyLength: req.bodyLength,
      headersTimeoutMs: req.firstByteTimeoutMs,
      signal: req.clientSignal,
      onFinish: req.onFinish,
    });
  } catch (err) {
    throw upstreamError(err, req.clientSignal().aborted, req.sessionId);
  }
}

function upstreamError(err: unknown, clientGone: boolean, sessionId: string): GatewayError {
  const options = { cause: err, sessionId };
  if (clientGone) return new GatewayError("upstream_failed", "the client went away", options);
  if (err instanceof InvalidTargetError)
    return new GatewayError("invalid_request", "the request path is not valid", options);
  if (err instanceof HeadersTimeoutError || err instanceof ConnectTimeoutError) {
    return new GatewayError("upstream_timeout", "the sandbox did not answer in time", options);
  }
  const code = (err as { code?: unknown }).code;
  if (
    code === "ECONNREFUSED" ||
    code === "ConnectionRefused" ||
    code === "EHOSTUNREACH" ||
    code === "ENETUNREACH"
  ) {
    return new GatewayError("sandbox_unreachable", "the sandbox is not reachable", options);
  }
  return new GatewayError("upstream_failed", "the sandbox connection failed", options);
}

/** Whether a proxy failure means the sandbox is gone (its session should be looked up afresh). */
export function sandboxLooksGone(err: unknown): boolean {
  return err instanceof GatewayError && err.code === "sandbox_unreachable";
}
