/**
 * Brings a real Kubernetes control plane up on loopback: etcd, kube-apiserver (secure port only,
 * Node+RBAC authorization), kube-controller-manager and kube-scheduler, each on free ports and in a
 * private directory so several clusters can run side by side. A stale cluster of the same name
 * (processes and directory left by an earlier run) is removed first.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { isNodeReady, nodeAgentArgv } from "../node-agent/start-node-agent";
import { type Binaries, ensureBinaries } from "./binaries";
import { type ClusterInfo, clusterDir, readClusterInfo, writeClusterInfo } from "./cluster-state";
import { writeKubeconfig } from "./kubeconfig";
import { createPki, type Pki } from "./pki";
import { freePort, processesMentioning, startDaemon, stopProcesses } from "./processes";

export const SERVICE_CIDR = "10.96.0.0/16";
/** The example AgentRuntime in manifests/examples names a made-up agent image; locally it runs the echo agent. */
const EXAMPLE_IMAGES = `--image-map=${join(import.meta.dir, "../platform/example-images.json")}`;
const ISSUER = "https://kubernetes.default.svc.cluster.local";

export interface UpOptions {
  readonly name: string;
  readonly nodeName?: string;
  /** Start the host-process node agent too (default true when it exists). */
  readonly withNode?: boolean;
  readonly log?: (line: string) => void;
}

export async function clusterUp(opts: UpOptions): Promise<ClusterInfo> {
  const log = opts.log ?? console.error;
  const bins = await ensureBinaries(log);
  const started = Date.now();
  const dir = clusterDir(opts.name);
  await clusterDown(opts.name);
  for (const sub of ["logs", "etcd", "pki"]) mkdirSync(join(dir, sub), { recursive: true, mode: 0o700 });
  const nodeName = opts.nodeName ?? `agentland-node-${opts.name}`;
  const pki = createPki(join(dir, "pki"), nodeName);
  const ports = {
    etcd: await freePort(),
    peer: await freePort(),
    api: await freePort(),
    kcm: await freePort(),
    sched: await freePort(),
  };
  const server = `https://127.0.0.1:${ports.api}`;
  const kubeconfigs = writeKubeconfigs(dir, server, pki);
  const pids: Record<string, number> = {};

  pids["etcd"] = startDaemon(dir, "etcd", etcdArgs(bins, dir, ports.etcd, ports.peer));
  await waitFor("etcd", () => httpOk(`http://127.0.0.1:${ports.etcd}/health`), 30_000);
  pids["kube-apiserver"] = startDaemon(
    dir,
    "kube-apiserver",
    apiserverArgs(bins, pki, ports.api, ports.etcd),
  );
  const admin = { ca: readFileSync(pki.caCert, "utf8"), ...certPair(pki, "admin") };
  await waitFor("kube-apiserver /readyz", () => httpOk(`${server}/readyz`, admin), 60_000);
  pids["kube-controller-manager"] = startDaemon(dir, "kube-controller-manager", [
    bins.kubeControllerManager,
    ...componentArgs(kubeconfigs.kcm, ports.kcm),
    `--root-ca-file=${pki.caCert}`,
    `--service-account-private-key-file=${pki.saKey}`,
    "--use-service-account-credentials=true",
    `--cluster-signing-cert-file=${pki.caCert}`,
    `--cluster-signing-key-file=${pki.caKey}`,
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    "--concurrent-gc-syncs=20",
    // Pod IPs here are loopback addresses, which EndpointSlices and Endpoints may not hold: those controllers
    // would only fail and spam events. The node agent resolves Services from ready pods itself.
    "--controllers=*,-endpoints-controller,-endpointslice-controller,-endpointslice-mirroring-controller",
    // A new Node becomes schedulable once this controller lifts its not-ready taint: check every second.
    "--node-monitor-period=1s",
  ]);
  pids["kube-scheduler"] = startDaemon(dir, "kube-scheduler", [
    bins.kubeScheduler,
    ...componentArgs(kubeconfigs.sched, ports.sched),
  ]);
  const insecure = { rejectUnauthorized: false };
  await waitFor(
    "kube-controller-manager",
    () => httpOk(`https://127.0.0.1:${ports.kcm}/healthz`, insecure),
    30_000,
  );
  await waitFor("kube-scheduler", () => httpOk(`https://127.0.0.1:${ports.sched}/healthz`, insecure), 30_000);

  const info: ClusterInfo = {
    name: opts.name,
    dir,
    server,
    kubeconfig: kubeconfigs.admin,
    nodeKubeconfig: kubeconfigs.node,
    caCert: pki.caCert,
    nodeName,
    binDir: bins.dir,
    pids,
    startedAt: new Date().toISOString(),
  };
  writeClusterInfo(info);
  log(`control plane ready in ${((Date.now() - started) / 1000).toFixed(1)} s at ${server}`);
  if (opts.withNode === false) return info;
  // The node agent reads cluster.json, so it starts after the file exists; then it is recorded there too.
  const withNode: ClusterInfo = {
    ...info,
    pids: { ...pids, "node-agent": startDaemon(dir, "node-agent", nodeAgentArgv(dir, [EXAMPLE_IMAGES])) },
  };
  writeClusterInfo(withNode);
  await waitFor(
    `node ${nodeName} Ready`,
    () => nodeReady(`${server}/api/v1/nodes/${nodeName}`, admin),
    60_000,
  );
  log(`node ${nodeName} ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return withNode;
}

async function nodeReady(url: string, tls: Record<string, unknown>): Promise<boolean> {
  try {
    const res = await fetch(url, { tls, signal: AbortSignal.timeout(2000) } as RequestInit);
    return res.ok && isNodeReady((await res.json()) as Parameters<typeof isNodeReady>[0]);
  } catch {
    return false;
  }
}

/**
 * Stops every process of the named cluster (found by its directory, even without cluster.json) and removes
 * it, and the clusters' root with it once no other cluster is left there.
 */
export async function clusterDown(name: string): Promise<void> {
  const dir = clusterDir(name);
  const info = readClusterInfo(dir);
  // Node agent first: it stops pod processes and unmounts their volumes while the apiserver still answers.
  const node = info?.pids["node-agent"];
  if (node !== undefined) await stopProcesses([node], 15_000);
  await stopProcesses(processesMentioning(dir), 10_000);
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  try {
    rmdirSync(dirname(dir));
  } catch {
    // another cluster's directory is still there (or the root is already gone)
  }
}

function writeKubeconfigs(dir: string, server: string, pki: Pki) {
  const one = (file: string, who: "admin" | "controller-manager" | "scheduler" | "node") => {
    const path = join(dir, file);
    writeKubeconfig(path, {
      server,
      caCert: pki.caCert,
      ...pki.cert(who),
      user: who,
      cluster: "agentland-local",
    });
    return path;
  };
  return {
    admin: one("admin.kubeconfig", "admin"),
    kcm: one("controller-manager.kubeconfig", "controller-manager"),
    sched: one("scheduler.kubeconfig", "scheduler"),
    node: one("node.kubeconfig", "node"),
  };
}

function etcdArgs(bins: Binaries, dir: string, client: number, peer: number): string[] {
  return [
    bins.etcd,
    "--name=agentland",
    `--data-dir=${join(dir, "etcd")}`,
    `--listen-client-urls=http://127.0.0.1:${client}`,
    `--advertise-client-urls=http://127.0.0.1:${client}`,
    `--listen-peer-urls=http://127.0.0.1:${peer}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
    `--initial-cluster=agentland=http://127.0.0.1:${peer}`,
    // A throw-away test store: durability across power loss buys nothing and fsync costs latency.
    "--unsafe-no-fsync",
    "--log-level=warn",
  ];
}

function apiserverArgs(bins: Binaries, pki: Pki, port: number, etcd: number): string[] {
  const serving = pki.cert("apiserver");
  return [
    bins.kubeApiserver,
    "--bind-address=127.0.0.1",
    `--secure-port=${port}`,
    "--advertise-address=127.0.0.1",
    // The built-in `kubernetes` Endpoints may not hold a loopback address; nothing here routes through it.
    "--endpoint-reconciler-type=none",
    `--etcd-servers=http://127.0.0.1:${etcd}`,
    `--client-ca-file=${pki.caCert}`,
    `--tls-cert-file=${serving.cert}`,
    `--tls-private-key-file=${serving.key}`,
    "--authorization-mode=Node,RBAC",
    "--enable-admission-plugins=NodeRestriction",
    `--service-account-issuer=${ISSUER}`,
    `--service-account-key-file=${pki.saPub}`,
    `--service-account-signing-key-file=${pki.saKey}`,
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    "--profiling=false",
    "--v=1",
  ];
}

function componentArgs(kubeconfig: string, port: number): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    "--bind-address=127.0.0.1",
    `--secure-port=${port}`,
    "--leader-elect=false",
    "--v=1",
  ];
}

function certPair(pki: Pki, who: "admin"): { cert: string; key: string } {
  const p = pki.cert(who);
  return { cert: readFileSync(p.cert, "utf8"), key: readFileSync(p.key, "utf8") };
}

async function httpOk(url: string, tls?: Record<string, unknown>): Promise<boolean> {
  try {
    const res = await fetch(url, { tls, signal: AbortSignal.timeout(2000) } as RequestInit);
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await Bun.sleep(100);
  }
  throw new Error(`${what} not ready after ${timeoutMs / 1000} s (see the logs in the cluster directory)`);
}
