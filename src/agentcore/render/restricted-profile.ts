/**
 * The Kubernetes "restricted" Pod Security Standard (https://kubernetes.io/docs/concepts/security/pod-security-standards/,
 * policy version 1.34), as a check over a pod spec: baseline controls plus restricted ones. The apiserver
 * enforces the same standard on namespaces labelled `pod-security.kubernetes.io/enforce=restricted`; this
 * pure copy lets unit tests show every rendered pod would be admitted.
 */
import type { V1Container, V1PodSpec, V1SecurityContext } from "@kubernetes/client-node";
import type { Wire } from "../../kube/kube-object";
import type { Pod } from "./render-pod";

const ALLOWED_VOLUME_TYPES = new Set([
  "configMap",
  "csi",
  "downwardAPI",
  "emptyDir",
  "ephemeral",
  "persistentVolumeClaim",
  "projected",
  "secret",
]);
const SAFE_SYSCTLS = new Set([
  "kernel.shm_rmid_forced",
  "net.ipv4.ip_local_port_range",
  "net.ipv4.ip_unprivileged_port_start",
  "net.ipv4.tcp_syncookies",
  "net.ipv4.ping_group_range",
  "net.ipv4.ip_local_reserved_ports",
  "net.ipv4.tcp_keepalive_time",
  "net.ipv4.tcp_fin_timeout",
  "net.ipv4.tcp_keepalive_intvl",
  "net.ipv4.tcp_keepalive_probes",
]);
const GOOD_SECCOMP = new Set(["RuntimeDefault", "Localhost"]);

/** Every violation found, as `field: problem`; empty means the pod is admitted under "restricted". */
export function restrictedViolations(pod: Pod): string[] {
  const spec = pod.spec;
  if (!spec) return ["spec: missing"];
  const out: string[] = [];
  if (spec.hostNetwork || spec.hostPID || spec.hostIPC) out.push("spec: host namespaces are forbidden");
  for (const volume of spec.volumes ?? []) {
    const types = Object.keys(volume).filter((k) => k !== "name");
    if (!types.every((t) => ALLOWED_VOLUME_TYPES.has(t)))
      out.push(`volumes[${volume.name}]: type ${types.join(",")} is not allowed`);
  }
  for (const sysctl of spec.securityContext?.sysctls ?? [])
    if (!SAFE_SYSCTLS.has(sysctl.name)) out.push(`securityContext.sysctls: ${sysctl.name} is not safe`);
  const containers = [
    ...(spec.initContainers ?? []),
    ...spec.containers,
    ...(spec.ephemeralContainers ?? []),
  ];
  for (const c of containers) out.push(...containerViolations(spec, c as Wire<V1Container>));
  return out;
}

function containerViolations(spec: Wire<V1PodSpec>, c: Wire<V1Container>): string[] {
  const at = `containers[${c.name}]`;
  const sc: Wire<V1SecurityContext> = c.securityContext ?? {};
  const pod = spec.securityContext ?? {};
  const out: string[] = [];
  if (sc.privileged) out.push(`${at}: privileged`);
  if (sc.allowPrivilegeEscalation !== false) out.push(`${at}: allowPrivilegeEscalation must be false`);
  if (!(sc.capabilities?.drop ?? []).includes("ALL")) out.push(`${at}: capabilities must drop ALL`);
  for (const cap of sc.capabilities?.add ?? [])
    if (cap !== "NET_BIND_SERVICE") out.push(`${at}: capability ${cap} may not be added`);
  if ((c.ports ?? []).some((p) => (p.hostPort ?? 0) !== 0)) out.push(`${at}: hostPort is forbidden`);
  const nonRoot = sc.runAsNonRoot ?? pod.runAsNonRoot;
  if (nonRoot !== true) out.push(`${at}: runAsNonRoot must be true`);
  if ((sc.runAsUser ?? pod.runAsUser) === 0) out.push(`${at}: runAsUser must not be 0`);
  const seccomp = sc.seccompProfile?.type ?? pod.seccompProfile?.type;
  if (!seccomp || !GOOD_SECCOMP.has(seccomp))
    out.push(`${at}: seccompProfile must be RuntimeDefault or Localhost`);
  if (sc.procMount && sc.procMount !== "Default") out.push(`${at}: procMount must be Default`);
  const appArmor = sc.appArmorProfile?.type ?? pod.appArmorProfile?.type;
  if (appArmor === "Unconfined") out.push(`${at}: appArmorProfile must not be Unconfined`);
  const selinux = sc.seLinuxOptions ?? pod.seLinuxOptions;
  if (selinux?.user || selinux?.role) out.push(`${at}: seLinuxOptions user/role must not be set`);
  if (sc.windowsOptions?.hostProcess) out.push(`${at}: hostProcess is forbidden`);
  return out;
}
