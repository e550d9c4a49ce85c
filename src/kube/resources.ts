/**
 * Resource types of the built-in kinds agentland touches. agentland's own CRDs are declared next to
 * their definitions (`src/api`) with {@link resourceType}.
 */
import type {
  CoreV1Event,
  V1ConfigMap,
  V1CustomResourceDefinition,
  V1Lease,
  V1Namespace,
  V1NetworkPolicy,
  V1Node,
  V1Pod,
  V1Role,
  V1RoleBinding,
  V1Secret,
  V1Service,
  V1ServiceAccount,
} from "@kubernetes/client-node";
import { resourceType } from "./resource-client";

const core = <T extends object>(plural: string, kind: string, namespaced = true) =>
  resourceType<T>({ group: "", version: "v1", plural, kind, namespaced });

export const PODS = core<V1Pod>("pods", "Pod");
export const SERVICES = core<V1Service>("services", "Service");
export const SECRETS = core<V1Secret>("secrets", "Secret");
export const CONFIG_MAPS = core<V1ConfigMap>("configmaps", "ConfigMap");
export const SERVICE_ACCOUNTS = core<V1ServiceAccount>("serviceaccounts", "ServiceAccount");
export const EVENTS = core<CoreV1Event>("events", "Event");
export const NAMESPACES = core<V1Namespace>("namespaces", "Namespace", false);
export const NODES = core<V1Node>("nodes", "Node", false);

export const LEASES = resourceType<V1Lease>({
  group: "coordination.k8s.io",
  version: "v1",
  plural: "leases",
  kind: "Lease",
  namespaced: true,
});
export const NETWORK_POLICIES = resourceType<V1NetworkPolicy>({
  group: "networking.k8s.io",
  version: "v1",
  plural: "networkpolicies",
  kind: "NetworkPolicy",
  namespaced: true,
});
export const ROLES = resourceType<V1Role>({
  group: "rbac.authorization.k8s.io",
  version: "v1",
  plural: "roles",
  kind: "Role",
  namespaced: true,
});
export const ROLE_BINDINGS = resourceType<V1RoleBinding>({
  group: "rbac.authorization.k8s.io",
  version: "v1",
  plural: "rolebindings",
  kind: "RoleBinding",
  namespaced: true,
});
export const CUSTOM_RESOURCE_DEFINITIONS = resourceType<V1CustomResourceDefinition>({
  group: "apiextensions.k8s.io",
  version: "v1",
  plural: "customresourcedefinitions",
  kind: "CustomResourceDefinition",
  namespaced: false,
});
