/**
 * WebSocket pass-through for agent invocations. The gateway first opens the upstream socket to the
 * sandbox (with the sandbox token, never the client's credentials); only when that succeeds does it
 * accept the client's upgrade, echoing the subprotocol the sandbox chose. Messages are relayed both ways;
 * either side closing closes the other. The session counts as busy while the socket is open.
 */
import type { Server, ServerWebSocket, WebSocketHandler } from "bun";
import type { Context } from "hono";
import type { Session } from "../../gen/agentland/agentcore/v1/agentcore_pb";
import type { GatewayEnv } from "../gateway-env";
import { GatewayError } from "../gateway-error";
import { targetOrigin } from "./forward-request";
import { upstreamHeaders } from "./proxy-headers";
import type { ProxyDeps } from "./proxy-to-session";

type Frame = string | ArrayBuffer | Uint8Array;

export interface WebSocketLink {
  readonly upstream: WebSocket;
  /** Frames from the sandbox that arrived before the client side was open. */
  readonly pending: Frame[];
  client: ServerWebSocket<WebSocketLink> | undefined;
  readonly end: () => void;
}

/** Handshake headers the WebSocket client generates itself; copying the client's would break it. */
const HANDSHAKE = [
  "sec-websocket-key",
  "sec-websocket-version",
  "sec-websocket-extensions",
  "sec-websocket-protocol",
];

export function isWebSocketUpgrade(request: Request): boolean {
  return request.headers.get("upgrade")?.toLowerCase() === "websocket";
}

export async function proxyWebSocket(
  c: Context<GatewayEnv>,
  session: Session,
  pathAndQuery: string,
  opts: ProxyDeps & { readonly openTimeoutMs: number },
): Promise<Response> {
  const token = opts.minter.mint({ audience: session.podIdentity, sessionId: session.id });
  const incoming = new Headers(c.req.raw.headers);
  for (const name of HANDSHAKE) incoming.delete(name);
  const headers = upstreamHeaders(incoming, {
    token,
    sessionId: session.id,
    requestId: c.get("requestId"),
    clientIp: undefined,
    proto: "http",
    host: c.req.header("host") ?? null,
  });
  const protocols = (c.req.header("sec-websocket-protocol") ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
  const url =
    targetOrigin({ podIp: session.podIp, port: session.port }).replace(/^http/, "ws") + pathAndQuery;
  const upstream = new WebSocket(url, {
    headers: Object.fromEntries(headers),
    protocols,
  } as Bun.WebSocketOptions);
  upstream.binaryType = "arraybuffer";
  await opened(upstream, opts.openTimeoutMs, session.id);
  const link: WebSocketLink = { upstream, pending: [], client: undefined, end: opts.activity.begin(session) };
  upstream.onmessage = (ev) => {
    const frame = ev.data as Frame;
    if (link.client) link.client.send(frame);
    else link.pending.push(frame);
  };
  upstream.onclose = (ev) => link.client?.close(sendableCode(ev.code), ev.reason);
  const responseHeaders: Record<string, string> = {
    "x-agentland-session": session.id,
    "x-request-id": c.get("requestId"),
  };
  if (upstream.protocol) responseHeaders["sec-websocket-protocol"] = upstream.protocol;
  const server = c.env as Server<WebSocketLink>;
  if (!server.upgrade(c.req.raw, { data: link, headers: responseHeaders })) {
    upstream.close(1011, "client upgrade failed");
    link.end();
    throw new GatewayError("invalid_request", "the WebSocket upgrade request is malformed", {
      sessionId: session.id,
    });
  }
  // Bun has taken over the connection; this response is never sent.
  return new Response(null);
}

export const websocketHandlers: WebSocketHandler<WebSocketLink> = {
  open(ws) {
    ws.data.client = ws;
    for (const frame of ws.data.pending.splice(0)) ws.send(frame);
    if (ws.data.upstream.readyState >= WebSocket.CLOSING) ws.close(1011, "sandbox closed");
  },
  message(ws, message) {
    if (ws.data.upstream.readyState === WebSocket.OPEN) ws.data.upstream.send(message);
  },
  close(ws, code, reason) {
    ws.data.end();
    if (ws.data.upstream.readyState <= WebSocket.OPEN) ws.data.upstream.close(sendableCode(code), reason);
  },
};

function opened(socket: WebSocket, timeoutMs: number, sessionId: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const fail = (code: "upstream_timeout" | "sandbox_unreachable", message: string) => {
      clearTimeout(timer);
      socket.close();
      reject(new GatewayError(code, message, { sessionId }));
    };
    const timer = setTimeout(
      () => fail("upstream_timeout", "the sandbox did not accept the WebSocket in time"),
      timeoutMs,
    );
    socket.onopen = () => {
      clearTimeout(timer);
      resolve();
    };
    socket.onerror = () => fail("sandbox_unreachable", "the sandbox refused the WebSocket");
    socket.onclose = () => fail("sandbox_unreachable", "the sandbox refused the WebSocket");
  });
}

/** 1005, 1006 and 1015 describe a close but may not be sent in a close frame (RFC 6455 §7.4.1). */
function sendableCode(code: number): number {
  return code === 1000 ||
    (code >= 3000 && code < 5000) ||
    (code > 1000 && code < 1015 && code !== 1005 && code !== 1006)
    ? code
    : 1000;
}
