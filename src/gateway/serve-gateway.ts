/**
 * Serves the gateway app with `Bun.serve`, WebSocket relaying included (hence not the shared
 * `serveApp`). Request bodies are not size-limited here: `/run` enforces its own limit while reading, and
 * agent invocations stream bodies of any size through without holding them.
 */
import type { Hono } from "hono";
import type { RunningComponent } from "../component";
import type { FastPath } from "./fast-path";
import type { GatewayEnv } from "./gateway-env";
import { type WebSocketLink, websocketHandlers } from "./proxy/websocket-proxy";

export interface GatewayServeOptions {
  readonly hostname: string;
  readonly port: number;
}

/**
 * Seconds a connection may stay silent. Long streams stay open as long as bytes flow (korokd's SSE sends a
 * heartbeat); Bun's maximum keeps idle keep-alive connections from piling up on the public port.
 */
const IDLE_TIMEOUT_S = 255;

export function serveGateway(
  app: Hono<GatewayEnv>,
  fastPath: FastPath,
  options: GatewayServeOptions,
): RunningComponent {
  const server = Bun.serve<WebSocketLink>({
    hostname: options.hostname,
    port: options.port,
    fetch: (request, srv) => fastPath(request, srv) ?? app.fetch(request, srv),
    websocket: websocketHandlers,
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    idleTimeout: IDLE_TIMEOUT_S,
  });
  const host = server.hostname?.includes(":") ? `[${server.hostname}]` : server.hostname;
  return {
    url: `http://${host}:${server.port}`,
    async stop(deadlineMs: number) {
      const graceful = server.stop(false);
      const timer = setTimeout(() => void server.stop(true), deadlineMs);
      try {
        await graceful;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
