/**
 * The /etc/hosts each pod's containers see: localhost, the pod's own name, the apiserver's Service
 * names, and one line per Service with a serving endpoint. This stands in for cluster DNS: names are
 * `<svc>.<ns>.svc` and `<svc>.<ns>.svc.cluster.local`, plus `<svc>` and `<svc>.<ns>` for Services in the
 * pod's own namespace (what the `search` path of a real pod's resolv.conf gives). A name resolves to
 * ONE pod IP (the lowest ready one): no load balancing, and no Service port mapping — clients must use
 * the Service's targetPort, which the agentland manifests keep equal to the port.
 */
import type { ServiceAddress } from "./service-endpoints";

export const CLUSTER_DOMAIN = "cluster.local";

export interface HostsInput {
  readonly namespace: string;
  readonly podIP: string;
  readonly hostname: string;
  readonly subdomain?: string;
  /** Where `kubernetes.default.svc` points (the local apiserver's address). */
  readonly apiserverHost: string;
  readonly services: readonly ServiceAddress[];
}

export function serviceNames(namespace: string, name: string, podNamespace: string): string[] {
  const fqdn = `${name}.${namespace}.svc`;
  const own = namespace === podNamespace ? [name, `${name}.${namespace}`] : [];
  return [fqdn, `${fqdn}.${CLUSTER_DOMAIN}`, ...own];
}

export function renderHostsFile(input: HostsInput): string {
  const lines = [
    "# Kubernetes-managed hosts file (agentland host-process node agent).",
    "127.0.0.1\tlocalhost",
    "::1\tlocalhost ip6-localhost ip6-loopback",
  ];
  const self = [input.hostname];
  if (input.subdomain) {
    const fqdn = `${input.hostname}.${input.subdomain}.${input.namespace}.svc.${CLUSTER_DOMAIN}`;
    self.unshift(fqdn);
  }
  lines.push(`${input.podIP}\t${self.join(" ")}`);
  const kube = input.namespace === "default" ? ["kubernetes"] : [];
  lines.push(
    `${input.apiserverHost}\t${[...serviceNames("default", "kubernetes", "-"), "kubernetes.default", ...kube].join(" ")}`,
  );
  for (const svc of input.services) {
    const first = svc.endpoints[0];
    if (!first) continue;
    lines.push(`${first.ip}\t${serviceNames(svc.namespace, svc.name, input.namespace).join(" ")}`);
    for (const ep of svc.endpoints) {
      if (ep.hostname)
        lines.push(`${ep.ip}\t${ep.hostname}.${svc.name}.${svc.namespace}.svc.${CLUSTER_DOMAIN}`);
    }
  }
  return `${lines.join("\n")}\n`;
}
