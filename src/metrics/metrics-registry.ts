/**
 * A small Prometheus registry: counters, gauges read at scrape time, and histograms with fixed buckets,
 * rendered in the text exposition format (version 0.0.4). Label values are escaped per that format.
 */

type Labels = Readonly<Record<string, string>>;

export interface Counter {
  inc(labels?: Labels, by?: number): void;
}

export interface Histogram {
  observe(value: number, labels?: Labels): void;
}

export interface MetricsRegistry {
  counter(name: string, help: string): Counter;
  /** `read` runs at scrape time and returns one sample per label set. */
  gauge(name: string, help: string, read: () => ReadonlyArray<readonly [Labels, number]>): void;
  histogram(name: string, help: string, buckets?: readonly number[]): Histogram;
  render(): string;
}

/** Seconds: from 0.5 ms (warm paths) to 60 s (cold sandbox starts). */
export const LATENCY_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

const escapeValue = (v: string) => v.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll('"', '\\"');

function labelText(labels: Labels, extra?: [string, string]): string {
  const pairs = Object.entries(labels);
  if (extra) pairs.push(extra);
  return pairs.length === 0 ? "" : `{${pairs.map(([k, v]) => `${k}="${escapeValue(v)}"`).join(",")}}`;
}

const keyOf = (labels: Labels) => JSON.stringify(Object.entries(labels).sort());

export function createMetricsRegistry(): MetricsRegistry {
  const renderers: (() => string)[] = [];
  const header = (name: string, help: string, type: string) =>
    `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`;

  return {
    counter(name, help) {
      const values = new Map<string, { labels: Labels; value: number }>();
      renderers.push(() => {
        let out = header(name, help, "counter");
        for (const { labels, value } of values.values()) out += `${name}${labelText(labels)} ${value}\n`;
        return out;
      });
      return {
        inc(labels = {}, by = 1) {
          const key = keyOf(labels);
          const entry = values.get(key) ?? { labels, value: 0 };
          entry.value += by;
          values.set(key, entry);
        },
      };
    },
    gauge(name, help, read) {
      renderers.push(() => {
        let out = header(name, help, "gauge");
        for (const [labels, value] of read()) out += `${name}${labelText(labels)} ${value}\n`;
        return out;
      });
    },
    histogram(name, help, buckets = LATENCY_BUCKETS) {
      const series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
      renderers.push(() => {
        let out = header(name, help, "histogram");
        for (const s of series.values()) {
          buckets.forEach((le, i) => {
            out += `${name}_bucket${labelText(s.labels, ["le", String(le)])} ${s.counts[i]}\n`;
          });
          out += `${name}_bucket${labelText(s.labels, ["le", "+Inf"])} ${s.count}\n`;
          out += `${name}_sum${labelText(s.labels)} ${s.sum}\n${name}_count${labelText(s.labels)} ${s.count}\n`;
        }
        return out;
      });
      return {
        observe(value, labels = {}) {
          const key = keyOf(labels);
          const s = series.get(key) ?? { labels, counts: buckets.map(() => 0), sum: 0, count: 0 };
          series.set(key, s);
          buckets.forEach((le, i) => {
            if (value <= le) s.counts[i] = (s.counts[i] ?? 0) + 1;
          });
          s.sum += value;
          s.count++;
        },
      };
    },
    render: () => renderers.map((r) => r()).join(""),
  };
}
