import { describe, expect, test } from "bun:test";
import { createMetrics } from "./metrics";

describe("gateway metrics", () => {
  test("series are rendered in the Prometheus text format with escaped labels and cumulative buckets", () => {
    const m = createMetrics();
    m.request("/api/code-runner/run", "POST", 200);
    m.request("/api/code-runner/run", "POST", 200);
    m.request('/odd"route', "GET", 404);
    m.upstreamLatency("/api/code-runner/run", 0.002);
    m.upstreamLatency("/api/code-runner/run", 0.2);
    m.upstreamLatency("/api/code-runner/run", 120);
    m.sessionCreated("code-interpreter", true);
    m.inFlight(1);
    const text = m.render();
    expect(text).toContain(
      'agentland_gateway_requests_total{route="/api/code-runner/run",method="POST",status="200"} 2',
    );
    expect(text).toContain(
      'agentland_gateway_requests_total{route="/odd\\"route",method="GET",status="404"} 1',
    );
    const bucket = (le: string) =>
      `agentland_gateway_upstream_latency_seconds_bucket{route="/api/code-runner/run",le="${le}"}`;
    expect(text).toContain(`${bucket("0.001")} 0\n`);
    expect(text).toContain(`${bucket("0.0025")} 1\n`);
    expect(text).toContain(`${bucket("0.25")} 2\n`);
    expect(text).toContain(`${bucket("60")} 2\n`);
    expect(text).toContain(`${bucket("+Inf")} 3\n`);
    expect(text).toContain(
      'agentland_gateway_upstream_latency_seconds_count{route="/api/code-runner/run"} 3',
    );
    expect(text).toContain('agentland_gateway_sessions_created_total{kind="code-interpreter",warm="true"} 1');
    expect(text).toContain("agentland_gateway_requests_in_flight 1");
    for (const line of text.trim().split("\n")) {
      expect(line).toMatch(/^(# (HELP|TYPE) \S+ .+|[a-z_]+(\{.*\})? [0-9.e+-]+)$/);
    }
  });
});
