/** The proxy's view of a request that came through the Hono app. */
import type { Server } from "bun";
import type { Context } from "hono";
import type { GatewayEnv } from "../gateway-env";
import type { ClientRequest } from "../proxy/proxy-to-session";

export function clientRequest(c: Context<GatewayEnv>): ClientRequest {
  return { raw: c.req.raw, requestId: c.get("requestId"), clientIp: clientAddress(c.env, c.req.raw) };
}

/** The peer address Bun saw; undefined when the app runs without a server (in-process requests). */
// biome-ignore lint/suspicious/noExplicitAny: Bun's websocket data type is chosen per server.
export function clientAddress(server: Server<any> | undefined, request: Request): string | undefined {
  try {
    return server?.requestIP(request)?.address;
  } catch {
    return undefined;
  }
}
