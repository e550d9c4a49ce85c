/**
 * A pod's "sandbox" on this node: its loopback IP (kept from the pod's status when the agent restarts
 * and the address is still free; the node's own address for hostNetwork pods), its directory `<stateDir>/pods/<uid>` (volumes, hosts file,
 * termination logs) and its log directory `<stateDir>/logs/<namespace>_<name>_<uid>/<container>/`,
 * which outlives the pod until the cluster is removed, so tests and humans can read what ran.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { PodIpPool } from "./pod-network";
import type { Pod } from "./pod-types";

export interface PodSandbox {
  readonly ip: string;
  readonly dir: string;
  readonly hostsFile: string;
  readonly logDir: string;
  containerDir(name: string): string;
  containerLogDir(name: string): string;
  /** Removes the pod directory and releases the IP; logs stay. */
  destroy(): void;
}

export function podLogDir(stateDir: string, namespace: string, name: string, uid: string): string {
  return join(stateDir, "logs", `${namespace}_${name}_${uid}`);
}

/** Where the output of run number `restartCount` of a container is written. */
export function containerLogPath(stateDir: string, pod: Pod, container: string, restartCount = 0): string {
  const m = pod.metadata ?? {};
  return join(
    podLogDir(stateDir, m.namespace ?? "", m.name ?? "", m.uid ?? ""),
    container,
    `${restartCount}.log`,
  );
}

export interface SandboxNetwork {
  readonly pool: PodIpPool;
  readonly hostIP: string;
  /** Addresses someone outside the pool already listens on. */
  busy(ip: string): boolean;
}

/** A hostNetwork pod has the node's address and takes none from the pool. */
function podIp(pod: Pod, net: SandboxNetwork): { ip: string; pooled: boolean } {
  if (pod.spec?.hostNetwork) return { ip: net.hostIP, pooled: false };
  const uid = pod.metadata?.uid ?? "";
  const previous = pod.status?.podIP;
  if (previous && net.pool.reserve(previous, uid)) return { ip: previous, pooled: true };
  return { ip: net.pool.allocate(uid, net.busy), pooled: true };
}

export function createPodSandbox(pod: Pod, stateDir: string, net: SandboxNetwork): PodSandbox {
  const uid = pod.metadata?.uid ?? "";
  const { ip, pooled } = podIp(pod, net);
  const dir = join(stateDir, "pods", uid);
  const logDir = podLogDir(stateDir, pod.metadata?.namespace ?? "", pod.metadata?.name ?? "", uid);
  mkdirSync(join(dir, "volumes"), { recursive: true, mode: 0o755 });
  mkdirSync(logDir, { recursive: true, mode: 0o755 });
  const hostsFile = join(dir, "etc-hosts");
  writeFileSync(hostsFile, "127.0.0.1\tlocalhost\n", { mode: 0o644 });
  let destroyed = false;
  return {
    ip,
    dir,
    hostsFile,
    logDir,
    containerDir: (name) => {
      const d = join(dir, "containers", name);
      mkdirSync(d, { recursive: true, mode: 0o755 });
      return d;
    },
    containerLogDir: (name) => join(logDir, name),
    destroy() {
      if (destroyed) return;
      destroyed = true;
      rmSync(dir, { recursive: true, force: true });
      if (pooled) net.pool.release(ip);
    },
  };
}
