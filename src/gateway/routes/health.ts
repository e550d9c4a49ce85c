/**
 * Probes and metrics, open without authentication. `/healthz`: the process serves. `/readyz`: AgentCore
 * answers and a signing key is loaded — and, with `--auth=none`, says loudly that anyone may call.
 */
import { Hono } from "hono";
import type { GatewayEnv } from "../gateway-env";
import type { GatewayMetrics } from "../metrics/metrics";

export interface Readiness {
  /** Check name → passed. */
  check(signal: AbortSignal): Promise<Record<string, boolean>>;
  readonly warnings: readonly string[];
}

export function healthRoutes(readiness: Readiness, metrics: GatewayMetrics): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", async function readyz(c) {
    const checks = await readiness.check(AbortSignal.any([c.req.raw.signal, AbortSignal.timeout(2_000)]));
    const ready = Object.values(checks).every(Boolean);
    const body = {
      status: ready ? "ready" : "not_ready",
      checks,
      ...(readiness.warnings.length ? { warnings: readiness.warnings } : {}),
    };
    return c.json(body, ready ? 200 : 503);
  });
  app.get("/metrics", (c) =>
    c.body(metrics.render(), 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" }),
  );
  return app;
}
