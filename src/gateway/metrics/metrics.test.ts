import { describe, expect, test } from "bun:test";
import { createMetrics } from "./metrics";

describe("gateway metrics", () => {
  test("requests, upstream latency, sessions and in-flight are exposed under their documented names", () => {
    const m = createMetrics();
    m.request("/api/code-runner/run", "POST", 200);
    m.request("/api/code-runner/run", "POST", 200);
    m.upstreamLatency("/api/code-runner/run", 0.002);
    m.upstreamLatency("/api/code-runner/run", 0.2);
    m.sessionCreated("code-interpreter", true);
    m.inFlight(1);
    const text = m.render();
    expect(text).toContain(
      'agentland_gateway_requests_total{route="/api/code-runner/run",method="POST",status="200"} 2',
    );
    expect(text).toContain(
      'agentland_gateway_upstream_latency_seconds_bucket{route="/api/code-runner/run",le="0.0025"} 1',
    );
    expect(text).toContain(
      'agentland_gateway_upstream_latency_seconds_bucket{route="/api/code-runner/run",le="+Inf"} 2',
    );
    expect(text).toContain('agentland_gateway_sessions_created_total{kind="code-interpreter",warm="true"} 1');
    expect(text).toContain("agentland_gateway_requests_in_flight 1");
  });
});
