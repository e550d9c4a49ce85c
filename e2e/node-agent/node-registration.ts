/**
 * The Node object and its heartbeats, as a kubelet keeps them: the Node is created (or its status
 * refreshed) with capacity, allocatable, addresses and node info; its Lease in `kube-node-lease` is
 * renewed every `leaseRenewMs` (the node lifecycle controller's liveness signal, 40 s duration); the
 * status with the Ready condition is re-posted every `statusMs`; on stop the Node is marked NotReady.
 * The Node is Ready exactly while the agent is running and watching its pods.
 */
import { cpus, release, totalmem } from "node:os";
import { abortableSleep } from "../../src/kube/clock";
import type { KubeClient } from "../../src/kube/kube-client";
import { isAlreadyExists, isNotFound } from "../../src/kube/kube-error";
import { LEASES, NODES } from "../../src/kube/resources";
import type { Node } from "./pod-types";

export const NODE_LABEL = "agentland.fl0rencess720.app/node-agent";
const LEASE_DURATION_S = 40;

export interface NodeIdentity {
  readonly name: string;
  readonly hostIP: string;
  readonly kubeletVersion: string;
  /** Port of the agent's kubelet-style endpoint (0 = none). */
  readonly kubeletPort: number;
  readonly capacity: Readonly<Record<string, string>>;
}

/**
 * CPU is advertised overcommitted (16 per core, at least 32), memory as at least 64 GiB: the agent
 * enforces no limits (see the README's known limits), sandbox pods are mostly idle, and a long test
 * run keeps many pods around, so scheduling by the real size would cap a 2-core test machine at a dozen
 * warm sandboxes for no isolation benefit. `--cpu`/`--memory` advertise other values.
 */
export function nodeCapacity(overrides: { cpu?: string; memory?: string } = {}): Record<string, string> {
  const memKi = Math.max(Math.floor(totalmem() / 1024), 64 * 1024 * 1024);
  return {
    cpu: overrides.cpu ?? String(Math.max(32, cpus().length * 16)),
    memory: overrides.memory ?? `${memKi}Ki`,
    pods: "500",
    "ephemeral-storage": "100Gi",
  };
}

const stamp = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

/** `since`: when Ready last changed (the other conditions never change). */
export function nodeConditions(ready: boolean, now: number, message: string, since: number = now) {
  const c = (type: string, status: string, reason: string, msg: string) => ({
    type,
    status,
    reason,
    message: msg,
    lastHeartbeatTime: stamp(now),
    lastTransitionTime: stamp(type === "Ready" ? since : Math.min(since, now)),
  });
  return [
    c(
      "MemoryPressure",
      "False",
      "KubeletHasSufficientMemory",
      "not emulated: the host-process node reports no pressure",
    ),
    c(
      "DiskPressure",
      "False",
      "KubeletHasNoDiskPressure",
      "not emulated: the host-process node reports no pressure",
    ),
    c(
      "PIDPressure",
      "False",
      "KubeletHasSufficientPID",
      "not emulated: the host-process node reports no pressure",
    ),
    c("Ready", ready ? "True" : "False", ready ? "KubeletReady" : "KubeletNotReady", message),
  ];
}

export function nodeObject(id: NodeIdentity, ready: boolean, now: number): Node {
  const capacity = id.capacity;
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: id.name,
      labels: {
        "kubernetes.io/hostname": id.name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": process.arch === "arm64" ? "arm64" : "amd64",
        [NODE_LABEL]: "host-process",
      },
    },
    spec: {},
    status: {
      capacity,
      allocatable: capacity,
      conditions: nodeConditions(
        ready,
        now,
        ready ? "host-process node agent is running" : "host-process node agent is starting",
      ),
      addresses: [
        { type: "InternalIP", address: id.hostIP },
        { type: "Hostname", address: id.name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: id.kubeletPort } },
      nodeInfo: {
        machineID: "",
        systemUUID: "",
        bootID: "",
        kernelVersion: release(),
        osImage: "agentland host-process node",
        containerRuntimeVersion: "agentland-host-process://0.1.0",
        kubeletVersion: id.kubeletVersion,
        kubeProxyVersion: "",
        operatingSystem: "linux",
        architecture: process.arch === "arm64" ? "arm64" : "amd64",
      },
    },
  } as Node;
}

/** Taints the node lifecycle controller puts on a node that is (or was) not Ready. */
export const NOT_READY_TAINTS = ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"];

/** Ready, and the controller has lifted the taints it set while the node was not: pods can be scheduled. */
export function isNodeSchedulable(node: Pick<Node, "status" | "spec"> | undefined): boolean {
  const ready = node?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
  return ready && !(node?.spec?.taints ?? []).some((t) => NOT_READY_TAINTS.includes(t.key));
}

export interface NodeRegistration {
  /** Creates the Node or refreshes it; Ready as given. */
  register(ready: boolean, signal?: AbortSignal): Promise<void>;
  setReady(ready: boolean, message: string, signal?: AbortSignal): Promise<void>;
  /** Resolves once the Node is Ready and untainted (the lifecycle controller acts within ~5 s). */
  waitUntilSchedulable(timeoutMs: number): Promise<void>;
  /** Starts the lease and status heartbeats. */
  startHeartbeats(opts: { leaseRenewMs: number; statusMs: number; onError(err: unknown): void }): void;
  stopHeartbeats(): Promise<void>;
}

export function createNodeRegistration(
  client: KubeClient,
  id: NodeIdentity,
  now: () => number = Date.now,
): NodeRegistration {
  const nodes = client.resource(NODES);
  const leases = client.resource(LEASES);
  const ctl = new AbortController();
  let loops: Promise<void>[] = [];
  let ready = false;
  let since = now();

  async function setReady(value: boolean, message: string, signal?: AbortSignal) {
    if (value !== ready) since = now();
    ready = value;
    await nodes.patchStatus(id.name, {
      type: "strategic",
      patch: { status: { conditions: nodeConditions(value, now(), message, since) } },
      timeoutMs: 5_000,
      ...(signal ? { signal } : {}),
    });
  }

  async function renewLease(signal: AbortSignal) {
    const spec = {
      holderIdentity: id.name,
      leaseDurationSeconds: LEASE_DURATION_S,
      renewTime: new Date(now()).toISOString().replace("Z", "000Z"),
    };
    try {
      await leases.patch(id.name, {
        namespace: "kube-node-lease",
        type: "merge",
        patch: { spec },
        signal,
        timeoutMs: 5_000,
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      const node = await nodes.get(id.name, { signal });
      const owner = { apiVersion: "v1", kind: "Node", name: id.name, uid: node.metadata?.uid ?? "" };
      await leases.create(
        { metadata: { name: id.name, namespace: "kube-node-lease", ownerReferences: [owner] }, spec },
        { namespace: "kube-node-lease", signal },
      );
    }
  }

  const every = (ms: number, fn: (s: AbortSignal) => Promise<void>, onError: (e: unknown) => void) =>
    (async () => {
      while (!ctl.signal.aborted) {
        await fn(ctl.signal).catch((err: unknown) => ctl.signal.aborted || onError(err));
        await abortableSleep(ms, ctl.signal).catch(() => undefined);
      }
    })();

  return {
    async register(value, signal) {
      ready = value;
      since = now();
      try {
        await nodes.create(nodeObject(id, value, now()), {
          ...(signal ? { signal } : {}),
          timeoutMs: 10_000,
        });
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
        const fresh = nodeObject(id, value, now());
        await nodes.patchStatus(id.name, {
          type: "strategic",
          patch: { status: fresh.status },
          timeoutMs: 10_000,
          ...(signal ? { signal } : {}),
        });
      }
      await renewLease(signal ?? ctl.signal);
    },
    setReady,
    async waitUntilSchedulable(timeoutMs) {
      const deadline = now() + timeoutMs;
      for (;;) {
        const node = await nodes.get(id.name, { timeoutMs: 5_000 });
        if (isNodeSchedulable(node)) return;
        if (now() > deadline)
          throw new Error(
            `node ${id.name} still tainted after ${timeoutMs} ms: ${JSON.stringify(node.spec?.taints)}`,
          );
        await Bun.sleep(200);
      }
    },
    startHeartbeats(opts) {
      loops = [
        every(opts.leaseRenewMs, renewLease, opts.onError),
        every(
          opts.statusMs,
          (s) =>
            setReady(
              ready,
              ready ? "host-process node agent is running" : "host-process node agent is not ready",
              s,
            ),
          opts.onError,
        ),
      ];
    },
    async stopHeartbeats() {
      ctl.abort();
      await Promise.all(loops);
    },
  };
}
