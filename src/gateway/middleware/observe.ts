/**
 * Counts every answered request by route pattern (not raw path: bounded label cardinality), method and
 * status, and tracks how many are in flight. Streamed bodies count until the handler returned.
 */
import type { MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import type { GatewayEnv } from "../gateway-env";
import type { GatewayMetrics } from "../metrics/metrics";

export function observe(metrics: GatewayMetrics): MiddlewareHandler<GatewayEnv> {
  return async function observeRequest(c, next) {
    metrics.inFlight(1);
    try {
      await next();
    } finally {
      metrics.inFlight(-1);
      metrics.request(routeLabel(routePath(c, -1), c.res.status), c.req.method, c.res.status);
    }
  };
}

function routeLabel(routePath: string, status: number): string {
  // Unmatched paths all share one label, whatever a scanner throws at the gateway.
  return status === 404 && (routePath === "*" || routePath === "/*") ? "unmatched" : routePath;
}
