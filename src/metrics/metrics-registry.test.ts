import { expect, test } from "bun:test";
import { createMetricsRegistry } from "./metrics-registry";

test("renders counters, scrape-time gauges and cumulative histogram buckets in Prometheus text format", () => {
  const m = createMetricsRegistry();
  const rpcs = m.counter("rpc_total", "RPCs served.");
  rpcs.inc({ method: "Get", code: "ok" });
  rpcs.inc({ code: "ok", method: "Get" }, 2);
  rpcs.inc({ method: 'we"ird\n' });
  m.gauge("sessions", "Sessions by phase.", () => [[{ phase: "Ready" }, 3]]);
  const h = m.histogram("latency_seconds", "Latency.", [0.1, 1]);
  h.observe(0.05);
  h.observe(0.5);
  h.observe(5);
  const text = m.render();
  expect(text).toContain('rpc_total{method="Get",code="ok"} 3\n');
  expect(text).toContain('rpc_total{method="we\\"ird\\n"} 1\n');
  expect(text).toContain('# TYPE sessions gauge\nsessions{phase="Ready"} 3\n');
  expect(text).toContain('latency_seconds_bucket{le="0.1"} 1\n');
  expect(text).toContain('latency_seconds_bucket{le="1"} 2\n');
  expect(text).toContain('latency_seconds_bucket{le="+Inf"} 3\n');
  expect(text).toContain("latency_seconds_count 3\n");
});
