/**
 * Downward API: the pod fields and container resources that `env[].valueFrom` and `downwardAPI`
 * volumes may reference, resolved the way the kubelet does (labels/annotations as `key="value"` lines
 * in files; resource values divided by `divisor` and rounded up; unset limits fall back to allocatable).
 */

import type { Container, Pod, PodRuntimeInfo } from "./pod-types";
import { divideCeil, parseQuantity } from "./quantity";

export class FieldRefError extends Error {
  override readonly name = "FieldRefError";
}

/** `metadata.labels['app']` → ["labels", "app"]. */
function subscript(path: string): [string, string] | undefined {
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  return m ? [m[1] as string, m[2] as string] : undefined;
}

/** Renders a map as the kubelet writes it into a downwardAPI file: sorted `key="value"` lines. */
export function formatMap(map: Readonly<Record<string, string>> | undefined): string {
  return Object.keys(map ?? {})
    .sort()
    .map((k) => `${k}=${JSON.stringify(map?.[k] ?? "")}`)
    .join("\n");
}

export function resolveFieldRef(pod: Pod, fieldPath: string, info: PodRuntimeInfo): string {
  const meta = pod.metadata ?? {};
  const sub = subscript(fieldPath);
  if (sub) return (sub[0] === "labels" ? meta.labels : meta.annotations)?.[sub[1]] ?? "";
  switch (fieldPath) {
    case "metadata.name":
      return meta.name ?? "";
    case "metadata.namespace":
      return meta.namespace ?? "";
    case "metadata.uid":
      return meta.uid ?? "";
    case "metadata.labels":
      return formatMap(meta.labels);
    case "metadata.annotations":
      return formatMap(meta.annotations);
    case "spec.nodeName":
      return pod.spec?.nodeName ?? "";
    case "spec.serviceAccountName":
      return pod.spec?.serviceAccountName ?? "";
    case "status.podIP":
    case "status.podIPs":
      return info.podIP;
    case "status.hostIP":
    case "status.hostIPs":
      return info.hostIP;
    default:
      throw new FieldRefError(`unsupported fieldPath "${fieldPath}"`);
  }
}

export interface ResourceFieldRef {
  readonly containerName?: string | undefined;
  readonly resource: string;
  readonly divisor?: string | number | undefined;
}

export function resolveResourceField(
  pod: Pod,
  ref: ResourceFieldRef,
  info: PodRuntimeInfo,
  defaultContainer?: Container,
): string {
  const container = ref.containerName
    ? [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find(
        (c) => c.name === ref.containerName,
      )
    : defaultContainer;
  if (!container)
    throw new FieldRefError(`resourceFieldRef: container "${ref.containerName ?? ""}" not found`);
  const [kind, name] = ref.resource.split(".", 2) as [string, string | undefined];
  if ((kind !== "limits" && kind !== "requests") || !name) {
    throw new FieldRefError(`unsupported resource "${ref.resource}"`);
  }
  const declared = container.resources?.[kind]?.[name];
  const fallback = kind === "limits" ? info.allocatable[name] : "0";
  const raw = declared ?? fallback;
  if (raw === undefined) throw new FieldRefError(`resource "${ref.resource}" has no value on this node`);
  const divisor = parseQuantity(String(ref.divisor ?? "1"));
  if (divisor <= 0) throw new FieldRefError(`resourceFieldRef divisor must be positive`);
  return divideCeil(parseQuantity(String(raw)), divisor);
}
