/**
 * The one path from a client request to a session's sandbox: mint a token for exactly that pod, build the
 * upstream headers, forward, and stream the answer back with `x-agentland-session`. The session counts as
 * busy (activity reports) from the first byte sent until the response body has ended, failed or been
 * cancelled by the client.
 */
import { STATUS_CODES } from "node:http";
import type { Session } from "../../gen/agentland/agentcore/v1/agentcore_pb";
import type { ActivityTracker } from "../activity/activity-tracker";
import type { GatewayMetrics } from "../metrics/metrics";
import type { SessionService } from "../sessions/session-service";
import type { TokenMinter } from "../tokens/token-minter";
import type { UpstreamResponse } from "../upstream/http1-exchange";
import type { UpstreamClient } from "../upstream/upstream-client";
import { forwardRequest, sandboxLooksGone } from "./forward-request";
import { downstreamHeaders, upstreamHeaders } from "./proxy-headers";

export interface ProxyDeps {
  readonly minter: TokenMinter;
  readonly activity: ActivityTracker;
  readonly metrics: GatewayMetrics;
  readonly sessions: SessionService;
  readonly upstream: UpstreamClient;
}

/**
 * The client's request as the proxy needs it: the same whether it came through the Hono app or the
 * gateway's pre-dispatch of hot routes (`fast-path.ts`).
 */
export interface ClientRequest {
  readonly raw: Request;
  readonly requestId: string;
  /** The client's address as the gateway saw it; appended to X-Forwarded-For. */
  readonly clientIp: string | undefined;
}

export interface ProxyCall {
  readonly pathAndQuery: string;
  readonly method: string;
  readonly body: Uint8Array | string | ReadableStream<Uint8Array> | null;
  /** Request headers to start from (defaults to the client's). */
  readonly headers?: Headers;
  readonly firstByteTimeoutMs: number;
  /** Metrics label. */
  readonly route: string;
}

/** The sandbox's answer, not yet turned into the client's. */
export interface UpstreamAnswer {
  readonly upstream: UpstreamResponse;
  /** The client's response: upstream status and body, filtered headers, session and request id. */
  toClient(): Response;
  /** Drops the body (the caller answers something else). */
  discard(): void;
}

export async function proxyToSession(
  client: ClientRequest,
  session: Session,
  call: ProxyCall,
  deps: ProxyDeps,
): Promise<UpstreamAnswer> {
  const { raw, requestId } = client;
  const incoming = call.headers ?? raw.headers;
  const declared = incoming.get("content-length");
  const token = deps.minter.mint({ audience: session.podIdentity, sessionId: session.id });
  const headers = upstreamHeaders(incoming, {
    token,
    sessionId: session.id,
    requestId,
    clientIp: client.clientIp,
    proto: raw.url.startsWith("https:") ? "https" : "http",
    host: raw.headers.get("host"),
  });
  // Busy from the first byte sent until the exchange is over, response body included.
  const end = deps.activity.begin({ id: session.id, namespace: session.namespace });
  const started = performance.now();
  let upstream: UpstreamResponse;
  try {
    upstream = await forwardRequest(deps.upstream, {
      target: { podIp: session.podIp, port: session.port },
      pathAndQuery: call.pathAndQuery,
      method: call.method,
      headers,
      body: call.body,
      bodyLength: declared === null ? undefined : Number(declared),
      firstByteTimeoutMs: call.firstByteTimeoutMs,
      clientSignal: () => raw.signal,
      sessionId: session.id,
      onFinish: end,
    });
  } catch (err) {
    if (sandboxLooksGone(err)) deps.sessions.forget(session.id);
    throw err;
  }
  deps.metrics.upstreamLatency(call.route, (performance.now() - started) / 1000);
  return {
    upstream,
    toClient: () => {
      const headers = downstreamHeaders(upstream.headers, session.id, requestId);
      // A reason phrase is passed on only when it is not the standard one (Bun writes that by itself;
      // naming it costs a third of the Response's construction).
      return upstream.statusText === STATUS_CODES[upstream.status]
        ? new Response(upstream.body, { status: upstream.status, headers })
        : new Response(upstream.body, { status: upstream.status, statusText: upstream.statusText, headers });
    },
    discard() {
      if (upstream.body instanceof ReadableStream) void upstream.body.cancel().catch(() => undefined);
    },
  };
}
