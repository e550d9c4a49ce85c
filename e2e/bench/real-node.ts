/**
 * `bun run bench real-node`: cold start of a sandbox pod on the real node (kubelet + containerd + runc, and
 * gVisor's runsc through the `gvisor` RuntimeClass) next to the host-process node agent, in one run:
 * pod create → Ready of a trivial container (`exec sleep`), images already in containerd (built and
 * imported by the bring-up), with the create → running part as the apiserver reported it.
 * Needs the local cluster (AGENTLAND_CLUSTER_DIR); joins the real node itself and removes it at the end.
 * Then the warm start through the gateway: a new session's first code run (warm-pool claim + run) and a run
 * in an existing session, on this cluster's host-process node and on a second control plane whose only node
 * is a real one (both platforms installed from manifests/, ~3 min of bring-up before the timed part).
 * Also the warm-pool claim alone (SandboxClaim create → claim Ready with the pod's IP, seen on a watch) on
 * each platform's example pool, and on the real node on a second pool of the same template under gVisor.
 * Bounded: 8 timed pods/runs per subject after one warm-up; a subject whose pods do not start within 60 s is
 * reported as failing rather than waited for.
 */

import { watcher } from "../../src/agentcore/controllers/testing/event-waiter";
import { SANDBOX_CLAIMS, SANDBOX_POOLS } from "../../src/api/resource-types";
import { createInformer } from "../../src/kube/informer";
import { createKubeClient } from "../../src/kube/kube-client";
import { loadKubeconfigFile } from "../../src/kube/kube-config";
import { NAMESPACES, PODS } from "../../src/kube/resources";
import { type ClusterInfo, clusterDir, readClusterInfo } from "../cluster/cluster-state";
import { clusterDown, clusterUp } from "../cluster/control-plane";
import { testCluster } from "../harness/test-cluster";
import type { Pod } from "../node-agent/pod-types";
import { bringUpPlatform, kubectlFor, SANDBOX_NS } from "../platform/bring-up-platform";
import { REAL_NODE_LABEL, REAL_NODE_TAINT } from "../real-node/node-layout";
import { realNodeDown, realNodeUp } from "../real-node/real-node";
import { installPlatform } from "../real-node/real-node-platform";

const RUNS = 8;
const WARMUP = 1;
const START_TIMEOUT_MS = 60_000;
const cluster = testCluster();
const load = () => Bun.spawnSync(["cat", "/proc/loadavg"]).stdout.toString().split(" ")[0] ?? "?";
const loadBefore = load();
const bringUp = performance.now();
await realNodeUp(cluster, (l) => console.error(`[real-node] ${l}`));
const bringUpMs = performance.now() - bringUp;

const client = createKubeClient(loadKubeconfigFile(cluster.kubeconfig));
const pods = client.resource(PODS);
const ns = `bench-real-node-${process.pid}`;
await client.resource(NAMESPACES).create({ metadata: { name: ns } });

const seen = new Map<string, { running?: number; ready?: number }>();
const informer = createInformer(pods, { namespace: ns });
const observe = (pod: Pod) => {
  const now = performance.now();
  const s = seen.get(pod.metadata?.name ?? "") ?? {};
  if (s.running === undefined && pod.status?.containerStatuses?.some((c) => c.state?.running))
    s.running = now;
  if (s.ready === undefined && pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"))
    s.ready = now;
  seen.set(pod.metadata?.name ?? "", s);
};
informer.addHandlers({ onAdd: observe, onUpdate: (_, p) => observe(p) });
informer.start();
await informer.waitForSync();

type Subject = "host-process" | "runc" | "gvisor";
const sleeper = (name: string, subject: Subject): Pod => ({
  metadata: { name },
  spec: {
    terminationGracePeriodSeconds: 1,
    automountServiceAccountToken: false,
    ...(subject === "host-process"
      ? {
          containers: [
            { name: "c", image: "agentland-fixtures/shell:1", command: ["/bin/sh", "-c", "exec sleep 3600"] },
          ],
        }
      : {
          nodeSelector: { [REAL_NODE_LABEL]: "real" },
          tolerations: [{ key: REAL_NODE_TAINT, operator: "Exists", effect: "NoSchedule" }],
          ...(subject === "gvisor" ? { runtimeClassName: "gvisor" } : {}),
          containers: [
            {
              name: "c",
              image: "agentland/code-interpreter:0.1.0",
              imagePullPolicy: "IfNotPresent",
              command: ["/bin/sh", "-c", "exec sleep 3600"],
            },
          ],
        }),
  },
});

const deletions: Promise<unknown>[] = [];
/** [create → Ready, create → running] in ms, or undefined when the pod did not start in time. */
async function coldStart(subject: Subject, i: number): Promise<[number, number] | undefined> {
  const name = `${subject}-${i}`;
  const t0 = performance.now();
  await pods.create(sleeper(name, subject), { namespace: ns });
  try {
    while (performance.now() - t0 < START_TIMEOUT_MS) {
      const s = seen.get(name);
      if (s?.ready !== undefined) return [s.ready - t0, (s.running ?? s.ready) - t0];
      await Bun.sleep(2);
    }
    return undefined;
  } finally {
    deletions.push(pods.delete(name, { namespace: ns }).catch(() => undefined));
  }
}

const samples: Record<string, number[]> = {};
const add = (k: string, v: number) => {
  samples[k] ??= [];
  samples[k].push(v);
};
const failed = new Set<Subject>();
for (const subject of ["host-process", "runc", "gvisor"] as const) {
  for (let i = 0; i < WARMUP + RUNS && !failed.has(subject); i++) {
    const r = await coldStart(subject, i);
    if (!r) {
      failed.add(subject);
      break;
    }
    if (i < WARMUP) continue;
    add(`${subject}: create → Ready`, r[0]);
    add(`${subject}:   of which create → running`, r[1]);
  }
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
};
const base = pct(samples["host-process: create → Ready"] ?? [], 50);
console.log(`\nreal node: cold pod start, ${RUNS} runs per subject (after ${WARMUP} warm-up), ms`);
console.log(
  `load average before ${loadBefore}, after ${load()}; real node bring-up ${(bringUpMs / 1000).toFixed(1)} s\n`,
);
console.log(`${"subject".padEnd(44)} ${"p50".padStart(8)} ${"p99".padStart(8)} ${"× host".padStart(8)}`);
for (const [k, xs] of Object.entries(samples)) {
  const p50 = pct(xs, 50);
  console.log(
    `${k.padEnd(44)} ${p50.toFixed(1).padStart(8)} ${pct(xs, 99).toFixed(1).padStart(8)} ${(p50 / base).toFixed(1).padStart(8)}`,
  );
}
for (const s of failed)
  console.log(`${s}: pods did not become Ready within ${START_TIMEOUT_MS / 1000} s (not measured)`);
console.log("");

const emit = (metric: string, value: number, unit: string) =>
  console.log(JSON.stringify({ bench: "real-node", metric, value: Number(value.toFixed(2)), unit }));
for (const subject of ["host-process", "runc", "gvisor"] as const) {
  const xs = samples[`${subject}: create → Ready`];
  if (xs) emit(`${subject.replace("-", "_")}_cold_start_p50`, pct(xs, 50), "ms");
}
emit("real_node_bring_up", bringUpMs, "ms");

await Promise.all(deletions);
await informer.stop();
await client
  .resource(NAMESPACES)
  .delete(ns)
  .catch(() => undefined);
await realNodeDown(cluster, cluster.name);

// Warm start: a new session's first code run through the gateway (warm-pool claim + run), and a run in an
// existing session, on the host-process node (this cluster) and on a real-node-only control plane.
const claims: Record<string, number[]> = {};
async function codeRun(gateway: string, apiKey: string, session?: string): Promise<[number, string]> {
  const t0 = performance.now();
  const res = await fetch(`${gateway}/api/code-runner/run`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${apiKey}`,
      "content-type": "application/json",
      ...(session ? { "x-agentland-session": session } : {}),
    },
    body: JSON.stringify({ language: "python", code: "print(1)" }),
    signal: AbortSignal.timeout(60_000),
  });
  await res.text();
  if (res.status !== 200) throw new Error(`code run answered ${res.status}`);
  return [performance.now() - t0, res.headers.get("x-agentland-session") ?? ""];
}
async function poolWarm(c: ClusterInfo, pool = "code-interpreter", tries = 300): Promise<void> {
  const kubectl = kubectlFor(c);
  for (let i = 0; i < tries; i++) {
    const ready = await kubectl([
      ...["-n", SANDBOX_NS, "get", "sandboxpool", pool],
      ...["-o", "jsonpath={.status.readyReplicas}"],
    ]).catch(() => "0");
    if (Number(ready) >= 3) return;
    await Bun.sleep(100);
  }
}
/** SandboxClaim create → claim Ready with its pod's IP (seen on a watch), each on a full pool. */
async function warmClaims(label: string, c: ClusterInfo, pool: string): Promise<void> {
  const api = createKubeClient(loadKubeconfigFile(c.kubeconfig)).resource(SANDBOX_CLAIMS);
  const w = await watcher(api, SANDBOX_NS);
  const key = `${label}: warm claim → claim Ready`;
  try {
    for (let i = 0; i < WARMUP + RUNS; i++) {
      await poolWarm(c, pool);
      const name = `bench-${pool}-${i}`;
      const t0 = performance.now();
      const seen = w.until(name, (o) => {
        const st = (o as { status?: { podIP?: string; conditions?: { type: string; status: string }[] } })
          .status;
        return (
          st?.podIP !== undefined &&
          st.conditions?.some((x) => x.type === "Ready" && x.status === "True") === true
        );
      });
      const obj = { metadata: { name }, spec: { poolRef: { name: pool }, mode: "PoolRequired" } };
      await api.create(obj as never, { namespace: SANDBOX_NS });
      const at = await seen;
      if (i >= WARMUP) claims[key] = [...(claims[key] ?? []), at - t0];
      await api.delete(name, { namespace: SANDBOX_NS }).catch(() => undefined);
    }
  } finally {
    await w.close();
  }
}
/** A copy of the example pool whose sandboxes run under gVisor (the `gvisor` RuntimeClass). */
async function gvisorPool(c: ClusterInfo): Promise<void> {
  const api = createKubeClient(loadKubeconfigFile(c.kubeconfig)).resource(SANDBOX_POOLS);
  const example = await api.get("code-interpreter", { namespace: SANDBOX_NS });
  const spec = example.spec as { sandboxTemplate: Record<string, unknown> };
  await api.create(
    {
      metadata: { name: "code-interpreter-gvisor" },
      spec: { ...spec, sandboxTemplate: { ...spec.sandboxTemplate, runtimeClassName: "gvisor" } },
    } as never,
    { namespace: SANDBOX_NS },
  );
}
async function warmRuns(label: string, c: ClusterInfo, gateway: string, apiKey: string): Promise<void> {
  for (let i = 0; i < WARMUP + RUNS; i++) {
    await poolWarm(c);
    const [claim, session] = await codeRun(gateway, apiKey);
    const [again] = await codeRun(gateway, apiKey, session);
    if (i < WARMUP) continue;
    claims[`${label}: new session (warm claim) + run`] = [
      ...(claims[`${label}: new session (warm claim) + run`] ?? []),
      claim,
    ];
    claims[`${label}: run in existing session`] = [
      ...(claims[`${label}: run in existing session`] ?? []),
      again,
    ];
  }
}
const hostPlatform = await bringUpPlatform(cluster, (l) => console.error(`[platform] ${l}`));
await warmRuns("host-process", cluster, hostPlatform.gatewayUrls[0] as string, hostPlatform.apiKey);
await warmClaims("host-process", cluster, "code-interpreter");
const rnpName = `bench-rnp-${process.pid}`;
try {
  const rnp = await clusterUp({ name: rnpName, withNode: false, log: (l) => console.error(`[rnp] ${l}`) });
  await realNodeUp(rnp, (l) => console.error(`[rnp] ${l}`), { taint: false });
  const real = await installPlatform(rnp);
  await warmRuns("real node (runc)", rnp, real.gateway, real.apiKey);
  await warmClaims("real node (runc)", rnp, "code-interpreter");
  await gvisorPool(rnp);
  await poolWarm(rnp, "code-interpreter-gvisor", 1200);
  await warmClaims("real node (gVisor)", rnp, "code-interpreter-gvisor");
} finally {
  await realNodeDown(readClusterInfo(clusterDir(rnpName)), rnpName);
  await clusterDown(rnpName);
}
console.log(
  `\nwarm start through the gateway, ${RUNS} runs each (after ${WARMUP} warm-up), ms; load ${load()}\n`,
);
console.log(`${"subject".padEnd(52)} ${"p50".padStart(8)} ${"p99".padStart(8)}`);
for (const [k, xs] of Object.entries(claims)) {
  console.log(`${k.padEnd(52)} ${pct(xs, 50).toFixed(1).padStart(8)} ${pct(xs, 99).toFixed(1).padStart(8)}`);
}
const claimP50 = (k: string) => pct(claims[k] ?? [Number.NaN], 50);
emit("host_process_warm_claim_run_p50", claimP50("host-process: new session (warm claim) + run"), "ms");
emit("runc_warm_claim_run_p50", claimP50("real node (runc): new session (warm claim) + run"), "ms");
emit("host_process_session_run_p50", claimP50("host-process: run in existing session"), "ms");
emit("runc_session_run_p50", claimP50("real node (runc): run in existing session"), "ms");
emit("host_process_warm_claim_p50", claimP50("host-process: warm claim → claim Ready"), "ms");
emit("runc_warm_claim_p50", claimP50("real node (runc): warm claim → claim Ready"), "ms");
emit("gvisor_warm_claim_p50", claimP50("real node (gVisor): warm claim → claim Ready"), "ms");
