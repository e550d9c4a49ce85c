/**
 * Probes and metrics, open without authentication. `/healthz`: the process serves. `/readyz`: AgentCore
 * answers and a signing key is loaded — and, with `--auth=none`, says loudly that anyone may call.
 * `/readyz?exclude=agentcore` leaves a check out, as kube-apiserver's does: the pod's readiness probe
 * asks only what this replica needs itself, so an AgentCore outage does not empty the Service (clients
 * get clear 503s instead of refused connections).
 */
import { Hono } from "hono";
import type { GatewayEnv } from "../gateway-env";
import { GatewayError } from "../gateway-error";
import type { GatewayMetrics } from "../metrics/metrics";

export interface Readiness {
  /** Check name → whether it passes now. */
  readonly checks: Readonly<Record<string, (signal: AbortSignal) => Promise<boolean> | boolean>>;
  readonly warnings: readonly string[];
}

export function healthRoutes(readiness: Readiness, metrics: GatewayMetrics): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", async function readyz(c) {
    const excluded = new Set(c.req.queries("exclude") ?? []);
    const unknown = [...excluded].filter((name) => !(name in readiness.checks));
    if (unknown.length > 0) {
      const known = Object.keys(readiness.checks).join(", ");
      throw new GatewayError(
        "invalid_request",
        `no readiness check named ${unknown.join(", ")} (known: ${known})`,
      );
    }
    const signal = AbortSignal.any([c.req.raw.signal, AbortSignal.timeout(2_000)]);
    const included = Object.entries(readiness.checks).filter(([name]) => !excluded.has(name));
    const results = await Promise.all(
      included.map(async ([name, check]) => [name, await check(signal)] as const),
    );
    const checks = Object.fromEntries(results);
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
