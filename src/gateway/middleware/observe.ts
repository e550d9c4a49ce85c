/**
 * Counts every answered request by route pattern (not raw path: bounded label cardinality), method and
 * status, and tracks how many are in flight. Streamed bodies count until the handler returned.
 */
import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import type { GatewayEnv } from "../gateway-env";
import type { GatewayMetrics } from "../metrics/metrics";

export function observe(metrics: GatewayMetrics): MiddlewareHandler<GatewayEnv> {
  return async function observeRequest(c, next) {
    metrics.inFlight(1);
    try {
      await next();
    } finally {
      metrics.inFlight(-1);
      metrics.request(routeLabel(c), c.req.method, c.res.status);
    }
  };
}

/**
 * The pattern of the route handler the request matched; requests no handler matches (scanners, typos)
 * share one label. Handlers take one parameter, middleware two (`c, next`).
 */
function routeLabel(c: Context<GatewayEnv>): string {
  const handlers = matchedRoutes(c).filter((r) => r.handler.length < 2);
  return handlers.at(-1)?.path ?? "unmatched";
}
