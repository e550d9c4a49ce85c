/**
 * `bun run bench node`: how fast the host-process node agent turns a new Pod into a Ready one, against
 * the cost of starting the same process without Kubernetes, side by side in one run:
 *   - pod create → Ready, trivial process (`exec sleep`, no probe), with the create → scheduled →
 *     running breakdown as the apiserver reported it;
 *   - pod create → Ready, the http-echo fixture behind an httpGet readiness probe;
 *   - baselines: the same sandboxed process started directly (bubblewrap, same root layout) until it
 *     prints, and a bare `Bun.spawn` of it;
 *   - the node agent's resident memory while the pods of this run come and go.
 * Needs the local cluster (AGENTLAND_CLUSTER_DIR). Bounded: 20 timed pods per subject.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInformer } from "../../src/kube/informer";
import { createKubeClient } from "../../src/kube/kube-client";
import { loadKubeconfigFile } from "../../src/kube/kube-config";
import { NAMESPACES, PODS } from "../../src/kube/resources";
import { processesMentioning } from "../cluster/processes";
import { testCluster } from "../harness/test-cluster";
import { startContainerProcess } from "../node-agent/container-process";
import type { Pod } from "../node-agent/pod-types";
import { hostTree, rootLayoutArgs } from "../node-agent/root-layout";
import { sandboxArgv } from "../node-agent/sandbox-argv";

const RUNS = 20;
const WARMUP = 2;
const cluster = testCluster();
const client = createKubeClient(loadKubeconfigFile(cluster.kubeconfig));
const pods = client.resource(PODS);
const ns = `bench-node-${process.pid}`;
await client.resource(NAMESPACES).create({ metadata: { name: ns } });

/** When each pod was first seen scheduled, running and Ready (ms, performance.now()). */
const seen = new Map<string, { scheduled?: number; running?: number; ready?: number }>();
const informer = createInformer(pods, { namespace: ns });
const observe = (pod: Pod) => {
  const now = performance.now();
  const s = seen.get(pod.metadata?.name ?? "") ?? {};
  const cond = (t: string) => pod.status?.conditions?.some((c) => c.type === t && c.status === "True");
  if (s.scheduled === undefined && (cond("PodScheduled") || pod.spec?.nodeName)) s.scheduled = now;
  if (s.running === undefined && pod.status?.containerStatuses?.some((c) => c.state?.running))
    s.running = now;
  if (s.ready === undefined && cond("Ready")) s.ready = now;
  seen.set(pod.metadata?.name ?? "", s);
};
informer.addHandlers({ onAdd: observe, onUpdate: (_, p) => observe(p) });
informer.start();
await informer.waitForSync();

const trivial = (name: string): Pod => ({
  metadata: { name },
  spec: {
    terminationGracePeriodSeconds: 1,
    containers: [
      { name: "c", image: "agentland-fixtures/shell:1", command: ["/bin/sh", "-c", "exec sleep 3600"] },
    ],
  },
});
const http = (name: string): Pod => ({
  metadata: { name },
  spec: {
    terminationGracePeriodSeconds: 1,
    containers: [
      {
        name: "echo",
        image: "agentland-fixtures/http-echo:1",
        ports: [{ name: "http", containerPort: 8080 }],
        env: [{ name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } }],
        readinessProbe: { httpGet: { path: "/readyz", port: "http" }, periodSeconds: 5 },
      },
    ],
  },
});

const deletions: Promise<void>[] = [];
async function podReady(make: (name: string) => Pod, i: number, tag: string): Promise<number[]> {
  const name = `${tag}-${i}`;
  const t0 = performance.now();
  await pods.create(make(name), { namespace: ns });
  for (;;) {
    const s = seen.get(name);
    if (s?.ready !== undefined) {
      deletions.push(pods.delete(name, { namespace: ns }).catch(() => undefined));
      return [s.ready - t0, (s.scheduled ?? s.ready) - t0, (s.running ?? s.ready) - t0];
    }
    await Bun.sleep(1);
  }
}

const scratch = mkdtempSync(join(tmpdir(), "bench-node-"));
const tree = hostTree("/");
const script = ["/bin/sh", "-c", "echo ready; exec sleep 3600"];
async function sandboxStart(i: number): Promise<number> {
  const log = join(scratch, `${i}.log`);
  const hosts = join(scratch, "hosts");
  await Bun.write(hosts, "127.0.0.1 localhost\n");
  const argv = sandboxArgv({
    bwrap: Bun.which("bwrap") as string,
    setpriv: Bun.which("setpriv") as string,
    layout: rootLayoutArgs(tree, []),
    hostname: "bench",
    readOnlyRoot: true,
    hostsFile: hosts,
    mounts: [],
    dropCaps: [],
    addCaps: [],
    noNewPrivileges: false,
    argv: script,
  });
  const t0 = performance.now();
  const proc = startContainerProcess({ argv, env: { PATH: "/usr/bin:/bin" }, logFile: log });
  while (statSync(log).size === 0) await Bun.sleep(0.5);
  const took = performance.now() - t0;
  await proc.stop(1000);
  return took;
}
async function bareStart(): Promise<number> {
  const t0 = performance.now();
  const proc = Bun.spawn(script, { stdout: "pipe" });
  const reader = proc.stdout.getReader();
  await reader.read();
  const took = performance.now() - t0;
  proc.kill("SIGKILL");
  await proc.exited;
  return took;
}

/** The cluster's node agent: recorded by `cluster up`, else found by its command line. */
const agentPid =
  cluster.pids["node-agent"] ??
  processesMentioning(`--cluster-dir=${cluster.dir}`).find((pid) =>
    readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("node-agent/main.ts"),
  );
const rssMiB = () => {
  if (agentPid === undefined) return Number.NaN;
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${agentPid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : Number.NaN;
};

const samples: Record<string, number[]> = {};
const add = (k: string, v: number) => {
  samples[k] ??= [];
  samples[k].push(v);
};
const rssBefore = rssMiB();
let rssMax = rssBefore;
for (let i = 0; i < WARMUP + RUNS; i++) {
  const keep = i >= WARMUP;
  const [ready, scheduled, running] = await podReady(trivial, i, "trivial");
  const [httpReady] = await podReady(http, i, "http");
  const sandboxed = await sandboxStart(i);
  const bare = await bareStart();
  rssMax = Math.max(rssMax, rssMiB());
  if (!keep) continue;
  add("pod create → Ready (trivial process)", ready as number);
  add("  of which create → scheduled", scheduled as number);
  add("  of which create → running", running as number);
  add("pod create → Ready (http-echo, readiness probe)", httpReady as number);
  add("baseline: sandboxed process start (bwrap)", sandboxed);
  add("baseline: bare process start (Bun.spawn)", bare);
}
await Promise.all(deletions);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
};
const base = pct(samples["baseline: sandboxed process start (bwrap)"] ?? [], 50);
console.log(`\nnode agent: ${RUNS} runs each (after ${WARMUP} warm-up), ms\n`);
console.log(`${"subject".padEnd(52)} ${"p50".padStart(8)} ${"p99".padStart(8)} ${"× sandbox".padStart(10)}`);
for (const [k, xs] of Object.entries(samples)) {
  const p50 = pct(xs, 50);
  console.log(
    `${k.padEnd(52)} ${p50.toFixed(1).padStart(8)} ${pct(xs, 99).toFixed(1).padStart(8)} ${(p50 / base).toFixed(1).padStart(10)}`,
  );
}
console.log(
  `node agent RSS: ${rssBefore.toFixed(1)} MiB before, ${rssMax.toFixed(1)} MiB max during the run\n`,
);

const emit = (metric: string, value: number, unit: string) =>
  console.log(JSON.stringify({ bench: "node", metric, value: Number(value.toFixed(2)), unit }));
emit("pod_create_to_ready_trivial_p50", pct(samples["pod create → Ready (trivial process)"] ?? [], 50), "ms");
emit("pod_create_to_ready_trivial_p99", pct(samples["pod create → Ready (trivial process)"] ?? [], 99), "ms");
emit(
  "pod_create_to_ready_http_probe_p50",
  pct(samples["pod create → Ready (http-echo, readiness probe)"] ?? [], 50),
  "ms",
);
emit("sandboxed_process_start_p50", base, "ms");
emit("bare_process_start_p50", pct(samples["baseline: bare process start (Bun.spawn)"] ?? [], 50), "ms");
emit("agent_rss_max", rssMax, "MiB");

await informer.stop();
await client
  .resource(NAMESPACES)
  .delete(ns)
  .catch(() => undefined);
rmSync(scratch, { recursive: true, force: true });
process.exit(0);
