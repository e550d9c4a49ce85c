/**
 * The gateway's Prometheus series on the shared registry: requests by route pattern, method and status;
 * time until a sandbox's response headers arrived; sessions created by kind and warm/cold start; requests
 * and streams in flight.
 */
import { createMetricsRegistry } from "../../metrics/metrics-registry";

export interface GatewayMetrics {
  /** One finished request: route pattern, method and status. */
  request(route: string, method: string, status: number): void;
  /** Time from sending to a sandbox until its response headers arrived. */
  upstreamLatency(route: string, seconds: number): void;
  /** A session this gateway created: kind and whether its sandbox came from a warm pool. */
  sessionCreated(kind: "code-interpreter" | "agent", warm: boolean): void;
  /** Requests being served right now. */
  inFlight(delta: number): void;
  render(): string;
}

export function createMetrics(): GatewayMetrics {
  const registry = createMetricsRegistry();
  const requests = registry.counter(
    "agentland_gateway_requests_total",
    "Requests answered, by route, method and status.",
  );
  const upstream = registry.histogram(
    "agentland_gateway_upstream_latency_seconds",
    "Time until a sandbox's response headers arrived.",
  );
  const sessions = registry.counter(
    "agentland_gateway_sessions_created_total",
    "Sessions created, by kind and warm/cold start.",
  );
  let inFlight = 0;
  registry.gauge("agentland_gateway_requests_in_flight", "Requests being served.", () => [[{}, inFlight]]);
  return {
    request: (route, method, status) => requests.inc({ route, method, status: String(status) }),
    upstreamLatency: (route, seconds) => upstream.observe(seconds, { route }),
    sessionCreated: (kind, warm) => sessions.inc({ kind, warm: warm ? "true" : "false" }),
    inFlight(delta) {
      inFlight += delta;
    },
    render: () => registry.render(),
  };
}
