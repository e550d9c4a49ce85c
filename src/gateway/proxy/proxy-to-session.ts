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
import { forwardRequest, sandboxLooksGone } from "./forward-request";
import { downstreamHeaders, upstreamHeaders } from "./proxy-headers";

export interface ProxyDeps {
  readonly minter: TokenMinter;
  readonly activity: ActivityTracker;
  readonly metrics: GatewayMetrics;
  readonly sessions: SessionService;
}

export interface ProxyCall {
  readonly pathAndQuery: string;
  readonly method: string;
  readonly body: Bun.BodyInit | null;
  /** Request headers to start from (defaults to the client's). */
  readonly headers?: Headers;
  readonly firstByteTimeoutMs: number;
  /** Metrics label. */
  readonly route: string;
}

/** The upstream response, not yet turned into the client's; `finish` must be called if it is dropped. */
export interface UpstreamAnswer {
  readonly upstream: Response;
  /** The client's response: upstream status and body, filtered headers, session and request id. */
  toClient(): Response;
  /** Ends the activity without sending the body (the caller answers something else). */
  discard(): void;
}

export async function proxyToSession(
  c: Context<GatewayEnv>,
  session: Session,
  call: ProxyCall,
  deps: ProxyDeps,
): Promise<UpstreamAnswer> {
  const requestId = c.get("requestId");
  const token = await deps.minter.mint({ audience: session.podIdentity, sessionId: session.id });
  const headers = upstreamHeaders(call.headers ?? c.req.raw.headers, {
    token,
    sessionId: session.id,
    requestId,
    clientIp: clientAddress(c),
    proto: new URL(c.req.url).protocol === "https:" ? "https" : "http",
    host: c.req.header("host") ?? null,
  });
  const end = deps.activity.begin({ id: session.id, namespace: session.namespace });
  const started = performance.now();
  let upstream: Response;
  try {
    upstream = await forwardRequest({
      target: { podIp: session.podIp, port: session.port },
      pathAndQuery: call.pathAndQuery,
      method: call.method,
      headers,
      body: call.body,
      firstByteTimeoutMs: call.firstByteTimeoutMs,
      clientSignal: c.req.raw.signal,
      sessionId: session.id,
    });
  } catch (err) {
    end();
    if (sandboxLooksGone(err)) deps.sessions.forget(session.id);
    throw err;
  }
  deps.metrics.upstreamLatency(call.route, (performance.now() - started) / 1000);
  return {
    upstream,
    toClient: () =>
      new Response(trackedBody(upstream, end), {
        status: upstream.status,
        statusText: upstream.statusText,
        headers: downstreamHeaders(upstream.headers, session.id, requestId),
      }),
    discard() {
      end();
      void upstream.body?.cancel().catch(() => undefined);
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

/** Responses up to this size are over in moments: the session stops counting as busy at their headers. */
const SHORT_RESPONSE_BYTES = 1024 * 1024;

/**
 * The response body for the client. A short response with a known length goes out on Bun's native path
 * (no JS per chunk); streams and large bodies are watched so the session counts as busy until they end.
 */
function trackedBody(upstream: Response, done: () => void): ReadableStream<Uint8Array> | null {
  const length = upstream.headers.get("content-length");
  if (upstream.body === null || (length !== null && Number(length) <= SHORT_RESPONSE_BYTES)) {
    done();
    return upstream.body;
  }
  return bodyWithEnd(upstream.body, done);
}

/**
 * Passes a body through chunk by chunk and calls `done` exactly once when it ends, fails, or the client
 * cancels it. Pull-based with no buffer of its own: the sandbox is read only as fast as the client reads.
 */
export function bodyWithEnd(
  body: ReadableStream<Uint8Array> | null,
  done: () => void,
): ReadableStream<Uint8Array> | null {
  if (body === null) {
    done();
    return null;
  }
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done: ended, value } = await reader.read();
          if (ended) {
            done();
            controller.close();
          } else {
            controller.enqueue(value);
          }
        } catch (err) {
          done();
          controller.error(err);
        }
      },
      cancel(reason) {
        done();
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
