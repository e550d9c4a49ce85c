/**
 * The one path from a client request to a session's sandbox: mint a token for exactly that pod, build the
 * upstream headers, forward, and stream the answer back with `x-agentland-session`. The session counts as
 * busy (activity reports) from the first byte sent until the response body has ended, failed or been
 * cancelled by the client.
 */
import type { Context } from "hono";
import { getConnInfo } from "hono/bun";
import type { Session } from "../../gen/agentland/agentcore/v1/agentcore_pb";
import type { ActivityTracker } from "../activity/activity-tracker";
import type { GatewayEnv } from "../gateway-env";
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
  c: Context<GatewayEnv>,
  session: Session,
  call: ProxyCall,
  deps: ProxyDeps,
): Promise<UpstreamAnswer> {
  const requestId = c.get("requestId");
  const token = deps.minter.mint({ audience: session.podIdentity, sessionId: session.id });
  const headers = upstreamHeaders(call.headers ?? c.req.raw.headers, {
    token,
    sessionId: session.id,
    requestId,
    clientIp: clientAddress(c),
    proto: c.req.url.startsWith("https:") ? "https" : "http",
    host: c.req.header("host") ?? null,
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
      firstByteTimeoutMs: call.firstByteTimeoutMs,
      clientSignal: c.req.raw.signal,
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
    toClient: () =>
      new Response(upstream.body, {
        status: upstream.status,
        statusText: upstream.statusText,
        headers: downstreamHeaders(upstream.headers, session.id, requestId),
      }),
    discard() {
      if (upstream.body instanceof ReadableStream) void upstream.body.cancel().catch(() => undefined);
    },
  };
}

function clientAddress(c: Context<GatewayEnv>): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined;
  }
}
