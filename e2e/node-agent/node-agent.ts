/**
 * The host-process node agent: registers its Node, watches the pods the scheduler binds to it and
 * runs them as sandboxed host processes (pod-worker.ts), keeps Service names resolvable for them
 * (service-dns.ts), and on stop ends every pod process, releases every pod IP and marks the Node
 * NotReady. Ready = the Node's Ready condition is True (set once the pod watch has synced).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { createEventRecorder } from "../../src/kube/event-recorder";
import { createInformer, type Informer } from "../../src/kube/informer";
import { createKubeClient } from "../../src/kube/kube-client";
import { loadKubeconfigFile } from "../../src/kube/kube-config";
import { PODS, SERVICES } from "../../src/kube/resources";
import type { AgentSettings } from "./agent-settings";
import { agentlandArgv } from "./agentland-executable";
import { createImageMap, DEFAULT_IMAGE_RULES, loadImageRules } from "./image-map";
import { listeningAddresses } from "./loopback-listeners";
import { createObjectSource, createTokenIssuer, finalDelete, patchPodStatus } from "./node-api";
import { createNodeRegistration, nodeCapacity } from "./node-registration";
import { createPodManager } from "./pod-manager";
import { createPodIpPool, type PodNetwork } from "./pod-network";
import type { Pod, Service } from "./pod-types";
import { startPodWorker } from "./pod-worker";
import { hostTree } from "./root-layout";
import { createServiceDns } from "./service-dns";
import { cleanStaleState } from "./stale-state";

export interface RunningNodeAgent {
  readonly nodeName: string;
  readonly network: PodNetwork;
  readonly stateDir: string;
  /** Pod IPs in use right now. */
  podIPs(): string[];
  /** Stops all pods, marks the Node NotReady; resolves when done. */
  stop(): Promise<void>;
}

export type Logger = (msg: string, fields?: Record<string, unknown>) => void;

export const jsonLogger: Logger = (msg, fields) =>
  console.log(JSON.stringify({ time: new Date().toISOString(), msg, ...fields }));

function tool(name: string): string {
  const path = Bun.which(name);
  if (!path)
    throw new Error(
      `the node agent needs "${name}" (Debian: ${name === "bwrap" ? "bubblewrap" : "util-linux"})`,
    );
  return path;
}

export async function startNodeAgent(s: AgentSettings, log: Logger = jsonLogger): Promise<RunningNodeAgent> {
  const tools = {
    bwrap: tool("bwrap"),
    setpriv: tool("setpriv"),
    nsenter: tool("nsenter"),
    tree: hostTree("/"),
    imageFiles: { repo: s.repo, bun: s.bun },
  };
  const podsDir = join(s.stateDir, "pods");
  const killed = cleanStaleState(podsDir);
  if (killed > 0) log("killed stale pod sandboxes of an earlier run", { count: killed });
  mkdirSync(podsDir, { recursive: true, mode: 0o755 });

  // A local apiserver and many pods: status writes and volume refreshes must not queue behind a 50 qps limit.
  const nodeClient = createKubeClient(loadKubeconfigFile(s.nodeKubeconfig), {
    qps: 500,
    burst: 1000,
    userAgent: `agentland-node-agent/${s.nodeName}`,
  });
  const adminClient = createKubeClient(loadKubeconfigFile(s.adminKubeconfig), {
    userAgent: "agentland-node-agent-dns",
  });
  const api = new URL(nodeClient.config.server);
  const images = createImageMap([...s.imageRules.flatMap(loadImageRules), ...DEFAULT_IMAGE_RULES], {
    repo: s.repo,
    bun: s.bun,
    agentland: agentlandArgv(s.repo, s.bun, s.agentlandBuild),
  });
  const recorder = createEventRecorder(nodeClient, {
    component: "kubelet",
    instance: s.nodeName,
    onError: () => undefined,
  });
  const pool = createPodIpPool(s.network);
  const capacity = nodeCapacity({
    ...(s.cpu ? { cpu: s.cpu } : {}),
    ...(s.memory ? { memory: s.memory } : {}),
  });
  const onError = (what: string) => (err: unknown) => log(what, { error: String(err) });

  const services: Informer<Service> = createInformer(adminClient.resource(SERVICES), {
    onError: onError("service watch"),
  });
  const allPods: Informer<Pod> = createInformer(adminClient.resource(PODS), {
    onError: onError("pod watch (dns)"),
  });
  const dns = createServiceDns({
    services,
    pods: allPods,
    apiserverHost: api.hostname,
    onError: onError("hosts file"),
  });
  const node = createNodeRegistration(nodeClient, {
    name: s.nodeName,
    hostIP: s.hostIP,
    kubeletVersion: s.kubeletVersion,
    kubeletPort: 0,
    capacity,
  });

  // One source for all pods, so pods mounting the same Secret/ConfigMap share their reads.
  const objects = createObjectSource(nodeClient);
  let busy = new Set<string>();
  const manager = createPodManager({
    startWorker: (pod) => {
      busy = listeningAddresses();
      return startPodWorker(pod, {
        stateDir: s.stateDir,
        hostIP: s.hostIP,
        api: { host: api.hostname, port: Number(api.port || 443) },
        allocatable: capacity,
        images,
        tools,
        objects,
        tokens: createTokenIssuer(nodeClient),
        pool,
        busyIp: (ip) => busy.has(ip),
        dns,
        backoff: { baseMs: s.crashBackoffMs, maxMs: s.crashBackoffMaxMs },
        volumeResyncMs: s.volumeResyncMs,
        now: Date.now,
        writeStatus: (pod, status, signal) => patchPodStatus(nodeClient, pod, status, signal),
        finalDelete: (pod) => finalDelete(nodeClient, pod),
        event: (pod, type, reason, message) =>
          void recorder.record({ apiVersion: "v1", kind: "Pod", ...pod }, { type, reason, message }),
        log,
      });
    },
    finalDelete: (pod) => finalDelete(nodeClient, pod),
    log,
  });
  const pods: Informer<Pod> = createInformer(nodeClient.resource(PODS), {
    fieldSelector: `spec.nodeName=${s.nodeName}`,
    onError: onError("pod watch"),
  });
  pods.addHandlers(manager.handlers);
  for (const inf of [services, allPods, pods]) inf.start();
  await Promise.all([services.waitForSync(), allPods.waitForSync(), pods.waitForSync()]);
  dns.refresh();
  // Registered only now, and Ready at once: no NotReady window for the lifecycle controller to taint.
  await node.register(true);
  node.startHeartbeats({
    leaseRenewMs: s.leaseRenewMs,
    statusMs: s.nodeStatusMs,
    onError: onError("node heartbeat"),
  });
  await node.waitUntilSchedulable(60_000);
  log("node agent ready", { node: s.nodeName, podNetwork: s.network.cidr, server: nodeClient.config.server });

  let stopping: Promise<void> | undefined;
  return {
    nodeName: s.nodeName,
    network: s.network,
    stateDir: s.stateDir,
    podIPs: () => [...pool.inUse().keys()],
    stop() {
      stopping ??= (async () => {
        log("node agent stopping", { pods: manager.workers().size });
        await pods.stop();
        await manager.shutdown(s.shutdownGraceMs);
        dns.stop();
        await node.stopHeartbeats();
        await node
          .setReady(false, "host-process node agent stopped")
          .catch(onError("marking the node NotReady"));
        await Promise.all([services.stop(), allPods.stop()]);
        log("node agent stopped", { podIPsInUse: pool.inUse().size });
      })();
      return stopping;
    },
  };
}
