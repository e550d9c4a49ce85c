/** The Kubernetes objects the node agent handles, as JSON on the wire. */
import type {
  V1ConfigMap,
  V1Container,
  V1ContainerStatus,
  V1Node,
  V1Pod,
  V1PodCondition,
  V1PodStatus,
  V1Probe,
  V1Secret,
  V1Service,
  V1Volume,
} from "@kubernetes/client-node";
import type { Wire } from "../../src/kube/kube-object";

export type Pod = Wire<V1Pod>;
export type PodStatus = Wire<V1PodStatus>;
export type PodCondition = Wire<V1PodCondition>;
export type Container = Wire<V1Container>;
export type ContainerStatus = Wire<V1ContainerStatus>;
export type Probe = Wire<V1Probe>;
export type Volume = Wire<V1Volume>;
export type Secret = Wire<V1Secret>;
export type ConfigMap = Wire<V1ConfigMap>;
export type Service = Wire<V1Service>;
export type Node = Wire<V1Node>;

/** Reads the Secrets and ConfigMaps a pod references (undefined = does not exist). */
export interface ObjectSource {
  secret(namespace: string, name: string, signal?: AbortSignal): Promise<Secret | undefined>;
  configMap(namespace: string, name: string, signal?: AbortSignal): Promise<ConfigMap | undefined>;
}

/** Node-side facts that pod fields and resource references resolve against. */
export interface PodRuntimeInfo {
  readonly podIP: string;
  readonly hostIP: string;
  /** Node allocatable, used for limits a container does not set (as the kubelet does). */
  readonly allocatable: Readonly<Record<string, string>>;
}
