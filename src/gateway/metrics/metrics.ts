/**
 * The gateway's Prometheus series: requests by route pattern, method and status; time until a sandbox's
 * response headers arrived; sessions created by kind and warm/cold start; requests in flight.
 *
 * These are updated on every proxied request, so the hot path only bumps numbers in maps keyed by a
 * plain string; label sets are built once per series and the text is rendered at scrape time in the
 * exposition format (version 0.0.4) the shared registry uses.
 */

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

/** Seconds: from 0.5 ms (a warm proxy hop) to 60 s (a long first byte). */
const LATENCY_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

interface Series {
  readonly labels: string;
  value: number;
}

interface HistogramSeries {
  readonly labels: string;
  readonly counts: number[];
  sum: number;
  count: number;
}

export function createMetrics(): GatewayMetrics {
  const requests = new Map<string, Series>();
  const sessions = new Map<string, Series>();
  const latency = new Map<string, HistogramSeries>();
  let inFlight = 0;

  const bump = (series: Map<string, Series>, key: string, labels: () => string) => {
    const s = series.get(key);
    if (s !== undefined) s.value++;
    else series.set(key, { labels: labels(), value: 1 });
  };

  return {
    request(route, method, status) {
      bump(requests, `${route} ${method} ${status}`, () =>
        labelText({ route, method, status: String(status) }),
      );
    },
    upstreamLatency(route, seconds) {
      let h = latency.get(route);
      if (h === undefined) {
        h = { labels: labelText({ route }), counts: LATENCY_BUCKETS.map(() => 0), sum: 0, count: 0 };
        latency.set(route, h);
      }
      // Counts per bucket (not cumulative) here; the scrape adds them up.
      let i = 0;
      while (i < LATENCY_BUCKETS.length && seconds > (LATENCY_BUCKETS[i] as number)) i++;
      if (i < LATENCY_BUCKETS.length) h.counts[i] = (h.counts[i] as number) + 1;
      h.sum += seconds;
      h.count++;
    },
    sessionCreated(kind, warm) {
      bump(sessions, `${kind} ${warm}`, () => labelText({ kind, warm: String(warm) }));
    },
    inFlight(delta) {
      inFlight += delta;
    },
    render() {
      let out = counter(
        "agentland_gateway_requests_total",
        "Requests answered, by route, method and status.",
        requests,
      );
      out += histogram(
        "agentland_gateway_upstream_latency_seconds",
        "Time until a sandbox's response headers arrived.",
        latency,
      );
      out += counter(
        "agentland_gateway_sessions_created_total",
        "Sessions created, by kind and warm/cold start.",
        sessions,
      );
      out += "# HELP agentland_gateway_requests_in_flight Requests being served.\n";
      out += `# TYPE agentland_gateway_requests_in_flight gauge\nagentland_gateway_requests_in_flight ${inFlight}\n`;
      return out;
    },
  };
}

function counter(name: string, help: string, series: Map<string, Series>): string {
  let out = `# HELP ${name} ${help}\n# TYPE ${name} counter\n`;
  for (const s of series.values()) out += `${name}{${s.labels}} ${s.value}\n`;
  return out;
}

function histogram(name: string, help: string, series: Map<string, HistogramSeries>): string {
  let out = `# HELP ${name} ${help}\n# TYPE ${name} histogram\n`;
  for (const h of series.values()) {
    let cumulative = 0;
    LATENCY_BUCKETS.forEach((le, i) => {
      cumulative += h.counts[i] as number;
      out += `${name}_bucket{${h.labels},le="${le}"} ${cumulative}\n`;
    });
    out += `${name}_bucket{${h.labels},le="+Inf"} ${h.count}\n`;
    out += `${name}_sum{${h.labels}} ${h.sum}\n${name}_count{${h.labels}} ${h.count}\n`;
  }
  return out;
}

/** `a="x",b="y"` with values escaped per the exposition format. */
function labelText(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}="${v.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll('"', '\\"')}"`)
    .join(",");
}
