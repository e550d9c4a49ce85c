/**
 * RBAC is exactly as designed: the apiserver's own authorizer (`kubectl auth can-i --as=<ServiceAccount>`)
 * answers a table of allowed and denied requests for agentcore and the gateway.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { testCluster } from "../../e2e/harness/test-cluster";
import { GROUP } from "./group";
import {
  AGENTCORE_LEASE,
  SANDBOX_JWKS_CONFIGMAP as JWKS,
  GATEWAY_SIGNING_KEYS_SECRET as KEYS,
  DEFAULT_SANDBOX_NAMESPACE as SANDBOXES,
  SERVICE_ACCOUNTS,
  SYSTEM_NAMESPACE as SYSTEM,
} from "./install-names";
import { ALL_KINDS } from "./kinds";
import { installCrds, type KubectlResult, mapLimit } from "./testing/kubectl";
import { MANIFESTS_DIR } from "./write-crds";

const cluster = testCluster();
const as = (component: keyof typeof SERVICE_ACCOUNTS) =>
  `system:serviceaccount:${SYSTEM}:${SERVICE_ACCOUNTS[component]}`;

/** [verb, resource (optionally /name), namespace or "*" for all, subresource?]. */
type Check = readonly [string, string, string, string?];

const all = (verb: string, namespace: string, subresource?: string): Check[] =>
  ALL_KINDS.map((k): Check => {
    const resource = `${k.names.plural}.${GROUP}`;
    return subresource === undefined ? [verb, resource, namespace] : [verb, resource, namespace, subresource];
  });

const TABLE: Record<keyof typeof SERVICE_ACCOUNTS, { allow: Check[]; deny: Check[] }> = {
  agentcore: {
    allow: [
      ...["get", "list", "watch", "create", "update", "patch", "delete"].flatMap((verb) => all(verb, "*")),
      ...all("update", "team-a", "status"),
      ...all("patch", SANDBOXES, "status"),
      ["update", `sandboxes.${GROUP}`, SANDBOXES, "finalizers"],
      ...["get", "list", "watch", "create", "delete", "patch"].map(
        (verb): Check => [verb, "pods", SANDBOXES],
      ),
      ["create", "events", SANDBOXES],
      ["create", "events.events.k8s.io", SYSTEM],
      ["create", "networkpolicies.networking.k8s.io", SANDBOXES],
      ["delete", "networkpolicies.networking.k8s.io", SANDBOXES],
      ["create", "configmaps", SANDBOXES],
      ["get", `leases.coordination.k8s.io/${AGENTCORE_LEASE}`, SYSTEM],
      ["update", `leases.coordination.k8s.io/${AGENTCORE_LEASE}`, SYSTEM],
      ["create", "leases.coordination.k8s.io", SYSTEM],
    ],
    deny: [
      ["get", "secrets", "kube-system"],
      ["list", "secrets", "*"],
      ["get", "secrets", SANDBOXES],
      ["get", `secrets/${KEYS}`, SYSTEM],
      ["create", "secrets", SANDBOXES],
      ["create", "pods", "default"],
      ["create", "pods", "kube-system"],
      ["create", "pods", SYSTEM],
      ["list", "pods", "*"],
      ["create", "pods", SANDBOXES, "exec"],
      ["update", "pods", SANDBOXES],
      ["create", "networkpolicies.networking.k8s.io", SYSTEM],
      ["get", "configmaps", "kube-system"],
      ["update", "leases.coordination.k8s.io/kube-controller-manager", "kube-system"],
      ["update", "leases.coordination.k8s.io/someone-else", SYSTEM],
      ["create", "leases.coordination.k8s.io", "default"],
      ["create", "rolebindings.rbac.authorization.k8s.io", SANDBOXES],
      ["create", "serviceaccounts", SYSTEM, "token"],
      ["delete", "namespaces", "*"],
      ["update", `customresourcedefinitions.apiextensions.k8s.io/sandboxes.${GROUP}`, "*"],
    ],
  },
  gateway: {
    allow: [
      ...["get", "list", "watch"].flatMap((verb): Check[] => [
        [verb, `codeinterpreters.${GROUP}`, "*"],
        [verb, `agentsessions.${GROUP}`, SANDBOXES],
      ]),
      ...["get", "watch", "update", "patch"].map((verb): Check => [verb, `secrets/${KEYS}`, SYSTEM]),
      ...["get", "update", "patch"].map((verb): Check => [verb, `configmaps/${JWKS}`, SANDBOXES]),
    ],
    deny: [
      ["list", "secrets", SYSTEM],
      ["list", "secrets", "*"],
      ["create", "secrets", SYSTEM],
      ["delete", `secrets/${KEYS}`, SYSTEM],
      ["get", "secrets/agentland-gateway-api-keys", SYSTEM],
      ["get", `secrets/${KEYS}`, "kube-system"],
      ["get", "configmaps/other", SANDBOXES],
      ["create", "configmaps", SANDBOXES],
      ["update", `configmaps/${JWKS}`, "default"],
      ["create", `codeinterpreters.${GROUP}`, SANDBOXES],
      ["delete", `agentsessions.${GROUP}`, SANDBOXES],
      ["update", `codeinterpreters.${GROUP}`, SANDBOXES, "status"],
      ["get", `agentruntimes.${GROUP}`, SANDBOXES],
      ["list", `sandboxes.${GROUP}`, "*"],
      ["get", "pods", SANDBOXES],
      ["create", "pods", SANDBOXES, "exec"],
      ["get", `leases.coordination.k8s.io/${AGENTCORE_LEASE}`, SYSTEM],
    ],
  },
};

type Row = { component: keyof typeof SERVICE_ACCOUNTS; expected: "yes" | "no"; check: Check };
const rows: Row[] = (Object.keys(TABLE) as (keyof typeof TABLE)[]).flatMap((component) => [
  ...TABLE[component].allow.map((check) => ({ component, expected: "yes" as const, check })),
  ...TABLE[component].deny.map((check) => ({ component, expected: "no" as const, check })),
]);
const answers: KubectlResult[] = [];

function describeCheck([verb, resource, namespace, subresource]: Check): string {
  return `${verb} ${resource}${subresource ? ` (${subresource})` : ""} ${namespace === "*" ? "in all namespaces" : `in ${namespace}`}`;
}

beforeAll(async () => {
  await installCrds(cluster.kubectl);
  // Only what RBAC needs: namespaces and the RBAC files, no workloads on the shared cluster.
  const files = ["10-namespaces.yaml", "20-agentcore-rbac.yaml", "20-gateway-rbac.yaml"];
  const applied = await cluster.kubectl(["apply", ...files.flatMap((f) => ["-f", join(MANIFESTS_DIR, f)])]);
  if (applied.code !== 0) throw new Error(`applying RBAC failed: ${applied.stderr}`);
  const ask = ({ component, check: [verb, resource, namespace, subresource] }: Row) =>
    cluster.kubectl([
      "auth",
      "can-i",
      verb,
      resource,
      ...(namespace === "*" ? ["--all-namespaces"] : ["-n", namespace]),
      ...(subresource ? [`--subresource=${subresource}`] : []),
      `--as=${as(component)}`,
    ]);
  answers.push(...(await mapLimit(rows, 8, ask)));
}, 180_000);

describe("RBAC", () => {
  rows.forEach((row, i) => {
    test(`${row.component} ${row.expected === "yes" ? "may" : "may not"} ${describeCheck(row.check)}`, () => {
      const answer = answers[i] as KubectlResult;
      expect(answer.stdout.trim()).toBe(row.expected);
    });
  });
});
