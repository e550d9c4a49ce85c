/**
 * The real node's configuration files: containerd 1.7 (CRI v1 plugin, overlayfs, runc through the runc v2
 * shim and gVisor through its own runsc shim, the project's pause image as the sandbox image, CNI from
 * Debian's plugins), the CNI network (bridge + host-local + loopback, routes only to the pod subnet and the
 * Service range: no default route, so a pod can reach nothing outside this machine), the kubelet (cgroupfs
 * driver on cgroup v1, its own roots and ports, webhook authentication and authorization) and the
 * resolv.conf pods get instead of the host's.
 */
import { SERVICE_CIDR } from "../cluster/control-plane";
import { PAUSE_IMAGE } from "../images/build-images";
import type { NodeLayout } from "./node-layout";

/**
 * The runsc shim's configuration (its `ConfigPath`). No /dev/kvm here: systrap, gVisor's default platform
 * without KVM. `network = "sandbox"`: gVisor's own network stack takes over the pod's CNI interface.
 */
export function runscShimConfig(l: NodeLayout, runscPath: string): string {
  return `binary_name = "${runscPath}"
root = "${l.run}/runsc"

[runsc_config]
  platform = "systrap"
  network = "sandbox"
  debug-log = "${l.logs}/runsc/"
`;
}

export function containerdConfig(l: NodeLayout, runscShimConfigPath: string): string {
  const cri = `plugins."io.containerd.grpc.v1.cri"`;
  return `version = 2
root = "${l.base}/containerd/root"
state = "${l.run}/containerd"
oom_score = 0
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "${l.containerdSocket}"

[ttrpc]
  address = "${l.containerdSocket}.ttrpc"

[metrics]
  address = ""

[${cri}]
  sandbox_image = "${PAUSE_IMAGE}"
  enable_selinux = false
  # This machine withholds CAP_SYS_RESOURCE even from root: a negative oom_score_adj cannot be set, so
  # containerd clamps pods to its own score instead of failing every sandbox.
  restrict_oom_score_adj = true
  disable_apparmor = true
  enable_unprivileged_ports = false
  # Pod network namespaces under containerd's state directory, inside the node's own run directory
  # (containerd 1.7), so its cleanup finds every one of them: under gVisor the pod's address moves into
  # runsc's network stack, and /run/netns would hold a namespace no address identifies as the node's.
  netns_mounts_under_state_dir = true

[${cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"
  discard_unpacked_layers = false

[${cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[${cri}.containerd.runtimes.runc.options]
  BinaryName = "/usr/sbin/runc"
  SystemdCgroup = false
  # runc's state under the node's own run directory (the shim's default is /run/containerd/runc), so the
  # node's cleanup removes it with everything else.
  Root = "${l.run}/runc"

[${cri}.containerd.runtimes.runsc]
  runtime_type = "io.containerd.runsc.v1"

[${cri}.containerd.runtimes.runsc.options]
  TypeUrl = "io.containerd.runsc.v1.options"
  ConfigPath = "${runscShimConfigPath}"

[${cri}.cni]
  bin_dir = "/usr/lib/cni"
  conf_dir = "${l.cniConfDir}"
  max_conf_num = 1

[plugins."io.containerd.internal.v1.opt"]
  path = "${l.base}/containerd/opt"
`;
}

export function cniConfig(l: NodeLayout): string {
  return JSON.stringify(
    {
      cniVersion: "1.0.0",
      name: `agentland-${l.bridge}`,
      plugins: [
        {
          type: "bridge",
          bridge: l.bridge,
          // The bring-up gives the bridge its gateway address itself: with isGateway the plugin would also
          // switch on IP forwarding for the whole machine, which nothing here needs.
          isGateway: false,
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: "host-local",
            dataDir: l.cniDataDir,
            ranges: [[{ subnet: l.podSubnet, gateway: l.gatewayIP }]],
            routes: [{ dst: SERVICE_CIDR, gw: l.gatewayIP }],
          },
        },
        { type: "loopback" },
      ],
    },
    null,
    2,
  );
}

export function kubeletConfig(
  l: NodeLayout,
  opts: { caCert: string; port: number; healthzPort: number },
): string {
  return JSON.stringify(
    {
      apiVersion: "kubelet.config.k8s.io/v1beta1",
      kind: "KubeletConfiguration",
      address: l.gatewayIP,
      port: opts.port,
      readOnlyPort: 0,
      healthzBindAddress: "127.0.0.1",
      healthzPort: opts.healthzPort,
      authentication: {
        anonymous: { enabled: false },
        webhook: { enabled: true },
        x509: { clientCAFile: opts.caCert },
      },
      authorization: { mode: "Webhook" },
      cgroupDriver: "cgroupfs",
      cgroupRoot: l.cgroupRoot,
      failCgroupV1: false,
      failSwapOn: false,
      containerRuntimeEndpoint: `unix://${l.containerdSocket}`,
      podLogsDir: l.podLogs,
      // Pods never see the host's resolver: ClusterFirst pods get clusterDNS, Default pods this file.
      resolvConf: l.resolvConf,
      clusterDomain: "cluster.local",
      clusterDNS: [l.gatewayIP],
      // Per pod: enough for any interpreter, small enough that a fork bomb stops early and cheaply.
      podPidsLimit: 512,
      maxPods: 60,
      serializeImagePulls: false,
      // A shared development machine: disk and memory pressure evictions would only flake the tests.
      evictionHard: { "memory.available": "100Mi", "nodefs.available": "2%", "imagefs.available": "2%" },
      imageGCHighThresholdPercent: 100,
      imageGCLowThresholdPercent: 99,
      nodeStatusUpdateFrequency: "4s",
      syncFrequency: "10s",
      fileCheckFrequency: "20s",
      registerNode: true,
      localStorageCapacityIsolation: true,
      protectKernelDefaults: false,
    },
    null,
    2,
  );
}

export function resolvConf(l: NodeLayout): string {
  // Only the node's own DNS address: queries never leave this machine.
  return `nameserver ${l.gatewayIP}\noptions ndots:1 timeout:1 attempts:1\n`;
}
