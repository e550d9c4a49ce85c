/**
 * Which pod IP a Service name resolves to on this node. The apiserver refuses loopback addresses in
 * EndpointSlices and Endpoints (ValidateEndpointIP), so the controller-manager cannot record the
 * 127.x pod IPs there; the agent computes the endpoints itself exactly as the EndpointSlice controller
 * selects them: pods in the Service's namespace matching its selector, with an IP, not terminating,
 * Ready (or any state with `publishNotReadyAddresses`). Services without a selector and ExternalName
 * Services get no entry.
 */
import type { Pod, Service } from "./pod-types";

export interface ServiceEndpoint {
  readonly ip: string;
  /** The pod's `spec.hostname` when the Service is its `spec.subdomain` (headless DNS records). */
  readonly hostname?: string;
}

export interface ServiceAddress {
  readonly namespace: string;
  readonly name: string;
  /** Sorted by IP; the first one is what the Service's name resolves to. */
  readonly endpoints: readonly ServiceEndpoint[];
}

export function selects(
  selector: Readonly<Record<string, string>>,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  return Object.entries(selector).every(([k, val]) => labels?.[k] === val);
}

export function isPodReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

function isServing(pod: Pod, publishNotReady: boolean): boolean {
  const phase = pod.status?.phase;
  if (!pod.status?.podIP || phase === "Succeeded" || phase === "Failed") return false;
  if (pod.metadata?.deletionTimestamp) return false;
  return publishNotReady || isPodReady(pod);
}

export function serviceAddresses(services: readonly Service[], pods: readonly Pod[]): ServiceAddress[] {
  const byNamespace = new Map<string, Pod[]>();
  for (const pod of pods) {
    const ns = pod.metadata?.namespace ?? "";
    byNamespace.set(ns, [...(byNamespace.get(ns) ?? []), pod]);
  }
  const out: ServiceAddress[] = [];
  for (const svc of services) {
    const selector = svc.spec?.selector;
    const namespace = svc.metadata?.namespace ?? "";
    const name = svc.metadata?.name ?? "";
    if (!selector || Object.keys(selector).length === 0 || svc.spec?.type === "ExternalName") continue;
    const publish = svc.spec?.publishNotReadyAddresses ?? false;
    const endpoints = (byNamespace.get(namespace) ?? [])
      .filter((p) => selects(selector, p.metadata?.labels) && isServing(p, publish))
      .map((p) => {
        const hostname = p.spec?.subdomain === name ? p.spec?.hostname : undefined;
        return { ip: p.status?.podIP as string, ...(hostname ? { hostname } : {}) };
      })
      .sort((a, b) => compareIp(a.ip, b.ip));
    out.push({ namespace, name, endpoints });
  }
  return out.sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
}

function compareIp(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < 4; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
