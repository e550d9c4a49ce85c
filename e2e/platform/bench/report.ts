/**
 * How the end-to-end benchmark reports: percentiles over samples, one Markdown table, and one JSON line per
 * metric in the suite's format (`{"bench","metric","value","unit"}`), printed after the table.
 */
import { readFileSync } from "node:fs";

export function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export interface Row {
  readonly measurement: string;
  readonly p50?: number;
  readonly p99?: number;
  /** A single value in place of percentiles (a count, a total, a ratio), with its unit. */
  readonly value?: string;
  readonly baseline?: string;
  readonly goal?: string;
}

export interface Report {
  /** A measured series: adds the row and its p50/p99 metrics. */
  series(name: string, measurement: string, samples: readonly number[], extra?: Partial<Row>): void;
  row(row: Row): void;
  metric(name: string, value: number, unit: string): void;
  note(line: string): void;
  print(title: string): void;
}

const fmt = (n: number | undefined) =>
  n === undefined || Number.isNaN(n) ? "" : n < 10 ? n.toFixed(2) : n.toFixed(1);

/** Each row also goes to stderr as it is measured, so a run that fails later still shows what it got. */
function progress(r: Row): void {
  const p = r.p50 === undefined ? "" : ` p50 ${fmt(r.p50)} p99 ${fmt(r.p99)} ms`;
  console.error(`    = ${r.measurement}:${p} ${r.value ?? ""} ${r.baseline ?? ""}`);
}

export function createReport(bench: string): Report {
  const rows: Row[] = [];
  const notes: string[] = [];
  const metrics: { bench: string; metric: string; value: number; unit: string }[] = [];
  const metric = (name: string, value: number, unit: string) =>
    metrics.push({ bench, metric: name, value: Number(value.toFixed(3)), unit });
  return {
    series(name, measurement, samples, extra = {}) {
      const p50 = percentile(samples, 50);
      const p99 = percentile(samples, 99);
      const row = { measurement: `${measurement} (n=${samples.length})`, p50, p99, ...extra };
      rows.push(row);
      progress(row);
      metric(`${name}_p50`, p50, "ms");
      metric(`${name}_p99`, p99, "ms");
    },
    row(row) {
      rows.push(row);
      progress(row);
    },
    metric,
    note: (line) => notes.push(line),
    print(title) {
      console.log(`\n${title}\n`);
      console.log("| measurement | p50 ms | p99 ms | value | baseline / share | goal |");
      console.log("|---|---:|---:|---:|---|---|");
      for (const r of rows) {
        const cells = [r.measurement, fmt(r.p50), fmt(r.p99), r.value ?? "", r.baseline ?? "", r.goal ?? ""];
        console.log(`| ${cells.join(" | ")} |`);
      }
      for (const n of notes) console.log(`\n${n}`);
      console.log("");
      for (const m of metrics) console.log(JSON.stringify(m));
    },
  };
}

/** The machine's load averages (1, 5, 15 min): numbers are only comparable at similar load. */
export function loadAverage(): string {
  return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
}

/** MemAvailable and MemTotal from /proc/meminfo, in MiB. */
export function machineMemoryMiB(): { available: number; total: number } {
  const text = readFileSync("/proc/meminfo", "utf8");
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? 0);
  return { available: kib("MemAvailable") / 1024, total: kib("MemTotal") / 1024 };
}
