/**
 * Where a real node of a named cluster keeps its state, and its network. Everything is private to that
 * name: containerd's root, state and socket, the kubelet's root and pod logs, the CNI configuration and
 * address store, a cgroup subtree, a bridge and an iptables chain, and a /24 of 10.213.0.0/16 that only
 * this machine uses. Paths live outside the control plane's directory, so `cluster down` never removes
 * them from under running containers; the real node's own `down` does.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";

export interface NodeLayout {
  readonly clusterName: string;
  readonly nodeName: string;
  /** Persistent-ish state (containerd root, kubelet root, CNI). Removed at every start and at down. */
  readonly base: string;
  /** Runtime state: sockets and containerd's state directory (short paths: sockets have a 108-byte limit). */
  readonly run: string;
  readonly containerdSocket: string;
  readonly containerdConfig: string;
  readonly kubeletConfig: string;
  readonly kubeletRoot: string;
  readonly podLogs: string;
  readonly cniConfDir: string;
  readonly cniDataDir: string;
  readonly resolvConf: string;
  readonly logs: string;
  /** The kubelet's cgroup root, e.g. `/agentland-real-dev`, present in every v1 hierarchy. */
  readonly cgroupRoot: string;
  readonly bridge: string;
  readonly iptablesChain: string;
  /** e.g. `10.213.57.0/24`, the gateway (the bridge's address, also the node IP) is `.1`. */
  readonly podSubnet: string;
  readonly gatewayIP: string;
  readonly label: string;
  readonly taintKey: string;
}

export const REAL_NODE_LABEL = "agentland.dev/node";
export const REAL_NODE_TAINT = "agentland.dev/real-node";

export function nodeLayout(clusterName: string): NodeLayout {
  const short = createHash("sha256").update(clusterName).digest("hex").slice(0, 6);
  const octet = 16 + (Number.parseInt(short.slice(0, 4), 16) % 224);
  const base = join("/var/lib/agentland-real-node", clusterName);
  const run = join("/run/agentland-rn", short);
  return {
    clusterName,
    nodeName: `agentland-real-${clusterName}`.slice(0, 63),
    base,
    run,
    containerdSocket: join(run, "containerd.sock"),
    containerdConfig: join(base, "containerd.toml"),
    kubeletConfig: join(base, "kubelet.yaml"),
    kubeletRoot: join(base, "kubelet"),
    podLogs: join(base, "pod-logs"),
    cniConfDir: join(base, "cni/net.d"),
    cniDataDir: join(base, "cni/networks"),
    resolvConf: join(base, "resolv.conf"),
    logs: join(base, "logs"),
    cgroupRoot: `/agentland-real-${short}`,
    bridge: `alrn${short}`,
    iptablesChain: `ALRN-${short.toUpperCase()}`,
    podSubnet: `10.213.${octet}.0/24`,
    gatewayIP: `10.213.${octet}.1`,
    label: `${REAL_NODE_LABEL}=real`,
    taintKey: REAL_NODE_TAINT,
  };
}
