/**
 * Joins a real node to a running local control plane: containerd 1.7 (Debian trixie's, CRI v1) with runc
 * and gVisor (runsc and its shim built from the gVisor module), Debian's CNI plugins on a private bridge, and a kubelet built from the same Kubernetes module as
 * the control plane. The node registers as a second Node, labelled `agentland.dev/node=real` and tainted
 * `agentland.dev/real-node=true:NoSchedule`, so only pods that ask for it run there. agentland's images
 * are built without Docker (e2e/images) and imported into containerd, so `imagePullPolicy: IfNotPresent`
 * finds them and nothing is pulled.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { ensureKubelet } from "../cluster/binaries";
import type { ClusterInfo } from "../cluster/cluster-state";
import { writeKubeconfig } from "../cluster/kubeconfig";
import { freePort, startDaemon } from "../cluster/processes";
import { ensureImages } from "../images/build-images";
import { type Containerd, ensureContainerd } from "./containerd-deb";
import { ensureGvisor, type GvisorBinaries } from "./gvisor-build";
import { nodeCertificate } from "./node-certificate";
import { cleanupNode } from "./node-cleanup";
import { cniConfig, containerdConfig, kubeletConfig, resolvConf, runscShimConfig } from "./node-config";
import { type NodeLayout, nodeLayout } from "./node-layout";
import { apiserverRoute, bridgeUp } from "./node-network";

export interface RealNode {
  readonly layout: NodeLayout;
  readonly nodeName: string;
  readonly pids: Readonly<Record<string, number>>;
  /** `ctr` against this node's containerd, namespace k8s.io. */
  readonly ctr: readonly string[];
}

function run(argv: string[]): string {
  const r = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")} failed: ${r.stderr.toString().trim()}`);
  return r.stdout.toString();
}

async function waitFor(
  what: string,
  probe: () => boolean | Promise<boolean>,
  timeoutMs: number,
  logFile: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await Bun.sleep(200);
  }
  let tail = "";
  try {
    tail = readFileSync(logFile, "utf8").split("\n").slice(-25).join("\n");
  } catch {
    // no log yet
  }
  throw new Error(`${what} not ready after ${timeoutMs / 1000} s; last lines of ${logFile}:\n${tail}`);
}

function apiPort(cluster: ClusterInfo): number {
  return Number(new URL(cluster.server).port);
}

async function startContainerd(
  l: NodeLayout,
  bins: { containerd: Containerd; gvisor: GvisorBinaries },
  log: (line: string) => void,
): Promise<number> {
  // containerd finds shims on PATH: its own release's runc shim first, then gVisor's runsc shim.
  const path = [bins.containerd.binDir, dirname(bins.gvisor.shim), process.env["PATH"] ?? ""].join(":");
  const pid = startDaemon(
    l.base,
    "containerd",
    [bins.containerd.containerd, "--config", l.containerdConfig],
    {
      PATH: path,
    },
  );
  const ctr = [bins.containerd.ctr, "--address", l.containerdSocket, "--namespace", "k8s.io"];
  await waitFor(
    "containerd",
    () => Bun.spawnSync([...ctr, "version"], { stdout: "ignore", stderr: "ignore" }).exitCode === 0,
    30_000,
    join(l.logs, "containerd.log"),
  );
  const images = await ensureImages(log);
  const started = Date.now();
  for (const img of images) run([...ctr, "images", "import", "--snapshotter=overlayfs", img.archive]);
  log(`imported ${images.length} images in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return pid;
}

/**
 * The kubelet's cgroup root must exist in every v1 hierarchy before it starts; a v1 cpuset group takes
 * tasks only once its cpus and mems are set, so they are copied from the top.
 */
function createCgroupRoot(l: NodeLayout): void {
  for (const h of readdirSync("/sys/fs/cgroup")) {
    const top = join("/sys/fs/cgroup", h);
    if (h === "unified" || !existsSync(join(top, "cgroup.procs"))) continue;
    const dir = join(top, l.cgroupRoot);
    mkdirSync(dir, { recursive: true });
    if (h.split(",").includes("cpuset")) {
      for (const f of ["cpuset.cpus", "cpuset.mems"]) writeFileSync(join(dir, f), readFileSync(join(top, f)));
    }
  }
}

/**
 * The node's programs, built (kubelet, gVisor) or downloaded (containerd) when not cached. Both Go builds
 * run at once when cold: each is minutes on 2 cores, and the Go tool overlaps them well. The test runner
 * calls this as a step of its own before the tests, so a cold build is never inside a test's hook timeout.
 */
export async function ensureRealNodeBinaries(log: (line: string) => void = console.error) {
  const [kubelet, gvisor] = await Promise.all([ensureKubelet(log), ensureGvisor(log)]);
  return { kubelet, gvisor, containerd: ensureContainerd(log) };
}

/** Brings the node up (cleaning whatever an earlier run left) and waits until it is Ready. */
export async function realNodeUp(
  cluster: ClusterInfo,
  log: (line: string) => void = console.error,
  opts: { taint?: boolean } = {},
): Promise<RealNode> {
  const started = Date.now();
  const l = nodeLayout(cluster.name);
  const { kubelet, ...bins } = await ensureRealNodeBinaries(log);
  run(["mount", "--make-rshared", "/"]);
  await cleanupNode(l);
  for (const d of [
    l.base,
    l.run,
    l.logs,
    join(l.logs, "runsc"),
    l.cniConfDir,
    l.cniDataDir,
    l.kubeletRoot,
    l.podLogs,
  ])
    mkdirSync(d, { recursive: true });
  const runscToml = join(l.base, "runsc.toml");
  writeFileSync(runscToml, runscShimConfig(l, bins.gvisor.runsc));
  writeFileSync(l.containerdConfig, containerdConfig(l, runscToml));
  writeFileSync(join(l.cniConfDir, "10-agentland.conflist"), cniConfig(l));
  writeFileSync(l.resolvConf, resolvConf(l));
  const ports = { port: await freePort(), healthzPort: await freePort() };
  writeFileSync(l.kubeletConfig, kubeletConfig(l, { caCert: cluster.caCert, ...ports }));
  createCgroupRoot(l);
  bridgeUp(l);
  apiserverRoute(l, apiPort(cluster));
  const kubeconfig = join(l.base, "kubelet.kubeconfig");
  writeKubeconfig(kubeconfig, {
    server: cluster.server,
    caCert: cluster.caCert,
    ...nodeCertificate(cluster, l),
    user: `system:node:${l.nodeName}`,
    cluster: "agentland-local",
  });

  const pids: Record<string, number> = {};
  pids["containerd"] = await startContainerd(l, bins, log);
  const proxyConfig = join(l.base, "service-proxy.json");
  writeFileSync(
    proxyConfig,
    JSON.stringify({
      kubeconfig: cluster.kubeconfig,
      bridge: l.bridge,
      bridgeIP: l.gatewayIP,
      subnetPrefix: l.podSubnet.replace(/0\/24$/, ""),
    }),
  );
  pids["service-proxy"] = startDaemon(l.base, "service-proxy", [
    process.execPath,
    join(import.meta.dir, "service-proxy.ts"),
    proxyConfig,
  ]);
  pids["kubelet"] = startDaemon(l.base, "kubelet", [
    kubelet,
    `--config=${l.kubeletConfig}`,
    `--kubeconfig=${kubeconfig}`,
    `--hostname-override=${l.nodeName}`,
    `--node-ip=${l.gatewayIP}`,
    `--root-dir=${l.kubeletRoot}`,
    `--cert-dir=${join(l.base, "kubelet-pki")}`,
    `--node-labels=${l.label}`,
    ...(opts.taint === false ? [] : [`--register-with-taints=${l.taintKey}=true:NoSchedule`]),
    "--v=1",
  ]);
  const admin = ["--kubeconfig", cluster.kubeconfig];
  const kubectl = join(cluster.binDir, "kubectl");
  await waitFor(
    `node ${l.nodeName} Ready`,
    () => {
      const r = Bun.spawnSync(
        [
          kubectl,
          ...admin,
          "get",
          "node",
          l.nodeName,
          "-o",
          "jsonpath={.status.conditions[?(@.type=='Ready')].status}",
        ],
        { stdout: "pipe", stderr: "ignore" },
      );
      return r.stdout.toString() === "True";
    },
    120_000,
    join(l.logs, "kubelet.log"),
  );
  const rc = Bun.spawnSync([kubectl, ...admin, "apply", "-f", "-"], {
    stdin: new TextEncoder().encode(runtimeClass(l)),
    stdout: "ignore",
    stderr: "pipe",
  });
  if (rc.exitCode !== 0) throw new Error(`creating RuntimeClass gvisor failed: ${rc.stderr.toString()}`);
  log(
    `real node ${l.nodeName} Ready in ${((Date.now() - started) / 1000).toFixed(1)} s (pod subnet ${l.podSubnet})`,
  );
  return {
    layout: l,
    nodeName: l.nodeName,
    pids,
    ctr: [bins.containerd.ctr, "--address", l.containerdSocket, "--namespace", "k8s.io"],
  };
}

/** RuntimeClass `gvisor` (handler runsc); its scheduling rules send such pods to the real node. */
function runtimeClass(l: NodeLayout): string {
  const [key, value] = l.label.split("=");
  return JSON.stringify({
    apiVersion: "node.k8s.io/v1",
    kind: "RuntimeClass",
    metadata: { name: "gvisor" },
    handler: "runsc",
    scheduling: {
      nodeSelector: { [key as string]: value },
      tolerations: [{ key: l.taintKey, operator: "Exists", effect: "NoSchedule" }],
    },
  });
}

export function realNodeExists(clusterName: string): boolean {
  return existsSync(nodeLayout(clusterName).base);
}

/** Stops everything of the node, removes its Node object and leaves no process, mount or cgroup behind. */
export async function realNodeDown(cluster: ClusterInfo | undefined, clusterName: string): Promise<void> {
  const l = nodeLayout(clusterName);
  await cleanupNode(l);
  if (cluster) {
    Bun.spawnSync(
      [
        join(cluster.binDir, "kubectl"),
        "--kubeconfig",
        cluster.kubeconfig,
        "delete",
        "node",
        l.nodeName,
        "--ignore-not-found",
        "--wait=false",
      ],
      { stdout: "ignore", stderr: "ignore", timeout: 20_000 },
    );
  }
}
