/**
 * Gives every request an id for logs and error bodies: the client's `x-request-id` when it looks like an
 * id (so traces can be joined across hops), else a fresh random one. The id is echoed on the response and
 * forwarded to the sandbox.
 */
import type { MiddlewareHandler } from "hono";
import type { GatewayEnv } from "../gateway-env";

const ACCEPTABLE = /^[A-Za-z0-9._:-]{1,128}$/;

export function acceptedRequestId(presented: string | null): string {
  return presented !== null && ACCEPTABLE.test(presented) ? presented : crypto.randomUUID();
}

export function requestId(): MiddlewareHandler<GatewayEnv> {
  return async function assignRequestId(c, next) {
    const id = acceptedRequestId(c.req.header("x-request-id") ?? null);
    c.set("requestId", id);
    c.set("sessionId", undefined);
    await next();
    c.res.headers.set("x-request-id", id);
  };
}
