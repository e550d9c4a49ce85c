/**
 * The local control plane is a real Kubernetes: the apiserver serves and validates CRDs, the
 * controller-manager garbage-collects dependents and mints tokens, RBAC is enforced and the
 * scheduler binds pods to nodes. Runs against the shared test cluster.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { testCluster } from "../harness/test-cluster";

const cluster = testCluster();
const json = (o: unknown) => JSON.stringify(o);

async function ok(args: string[], stdin?: string): Promise<string> {
  const r = await cluster.kubectl(args, stdin === undefined ? {} : { stdin });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout;
}

async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await probe();
    if (v !== undefined) return v;
    await Bun.sleep(200);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("local control plane", () => {
  test("a Bun process reaches the apiserver over TLS with the CA and client certificate it generated", async () => {
    const pki = join(cluster.dir, "pki");
    const tls = {
      ca: readFileSync(cluster.caCert, "utf8"),
      cert: readFileSync(join(pki, "admin.crt"), "utf8"),
      key: readFileSync(join(pki, "admin.key"), "utf8"),
    };
    const res = await fetch(`${cluster.server}/version`, { tls } as RequestInit);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { gitVersion: string }).gitVersion).toBe("v1.34.4");
    // Without the client certificate the same request is anonymous and may not list namespaces.
    const anon = await fetch(`${cluster.server}/api/v1/namespaces`, { tls: { ca: tls.ca } } as RequestInit);
    expect(anon.status).toBe(403);
    // Without the CA the server certificate is not trusted.
    await expect(fetch(`${cluster.server}/version`)).rejects.toThrow();
  });

  test("a CRD is served and the apiserver rejects an object its schema forbids", async () => {
    const ns = await cluster.createNamespace("crd");
    const group = `cp${Date.now()}.agentland.test`;
    const crd = {
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: `widgets.${group}` },
      spec: {
        group,
        scope: "Namespaced",
        names: { plural: "widgets", singular: "widget", kind: "Widget" },
        versions: [
          {
            name: "v1",
            served: true,
            storage: true,
            schema: {
              openAPIV3Schema: {
                type: "object",
                properties: {
                  spec: {
                    type: "object",
                    required: ["size"],
                    properties: { size: { type: "integer", minimum: 1, maximum: 10 } },
                  },
                },
              },
            },
          },
        ],
      },
    };
    await ok(["apply", "-f", "-"], json(crd));
    await ok(["wait", "--for=condition=Established", `crd/widgets.${group}`, "--timeout=30s"]);
    const widget = (size: number) => ({
      apiVersion: `${group}/v1`,
      kind: "Widget",
      metadata: { name: `w${size}`, namespace: ns },
      spec: { size },
    });
    await eventually("widgets to be served", async () =>
      (await cluster.kubectl(["create", "-f", "-"], { stdin: json(widget(3)) })).code === 0
        ? true
        : undefined,
    );
    const rejected = await cluster.kubectl(["create", "-f", "-"], { stdin: json(widget(42)) });
    expect(rejected.code).not.toBe(0);
    expect(rejected.stderr).toContain("spec.size");
    expect(rejected.stderr).toContain("should be less than or equal to 10");
    await ok(["delete", "crd", `widgets.${group}`, "--wait=false"]);
  });

  test("deleting an owner cascades to its dependents (controller-manager garbage collector)", async () => {
    const ns = await cluster.createNamespace("gc");
    await ok(["-n", ns, "create", "configmap", "owner"]);
    const uid = (await ok(["-n", ns, "get", "configmap", "owner", "-o", "jsonpath={.metadata.uid}"])).trim();
    const dependent = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name: "dependent",
        namespace: ns,
        ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "owner", uid }],
      },
    };
    await ok(["create", "-f", "-"], json(dependent));
    await ok(["-n", ns, "delete", "configmap", "owner"]);
    await eventually("the dependent to be collected", async () => {
      const r = await cluster.kubectl(["-n", ns, "get", "configmap", "dependent"]);
      return r.code !== 0 && r.stderr.includes("NotFound") ? true : undefined;
    });
  });

  test("a ServiceAccount gets a token through the TokenRequest API and authenticates with it", async () => {
    const ns = await cluster.createNamespace("token");
    await ok(["-n", ns, "create", "serviceaccount", "robot"]);
    const token = (await ok(["-n", ns, "create", "token", "robot", "--duration=10m"])).trim();
    expect(token.split(".")).toHaveLength(3);
    const res = await fetch(`${cluster.server}/apis/authentication.k8s.io/v1/selfsubjectreviews`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: json({ apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" }),
      tls: { ca: readFileSync(cluster.caCert, "utf8") },
    } as RequestInit);
    expect(res.status).toBe(201);
    const review = (await res.json()) as { status: { userInfo: { username: string } } };
    expect(review.status.userInfo.username).toBe(`system:serviceaccount:${ns}:robot`);
  });

  test("RBAC denies a ServiceAccount what it was not granted and allows what it was", async () => {
    const ns = await cluster.createNamespace("rbac");
    await ok(["-n", ns, "create", "serviceaccount", "reader"]);
    await ok(["-n", ns, "create", "role", "read-cm", "--verb=get,list", "--resource=configmaps"]);
    await ok([
      "-n",
      ns,
      "create",
      "rolebinding",
      "read-cm",
      "--role=read-cm",
      `--serviceaccount=${ns}:reader`,
    ]);
    const as = `system:serviceaccount:${ns}:reader`;
    expect((await cluster.kubectl(["-n", ns, "get", "configmaps"], { as })).code).toBe(0);
    const denied = await cluster.kubectl(["-n", ns, "get", "secrets"], { as });
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain('cannot list resource "secrets"');
  });

  test("kube-scheduler binds a pod to a registered Node (spec.nodeName)", async () => {
    const ns = await cluster.createNamespace("sched");
    const nodeName = `sched-test-${Date.now()}`;
    const node = {
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: nodeName, labels: { "kubernetes.io/hostname": nodeName } },
    };
    await ok(["create", "-f", "-"], json(node));
    try {
      const capacity = { cpu: "4", memory: "8Gi", pods: "110" };
      const status = { status: { capacity, allocatable: capacity, conditions: [readyCondition()] } };
      await ok(["patch", "node", nodeName, "--subresource=status", "--type=merge", "-p", json(status)]);
      const pod = {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "bound", namespace: ns },
        spec: {
          nodeSelector: { "kubernetes.io/hostname": nodeName },
          tolerations: [{ operator: "Exists" }],
          containers: [{ name: "c", image: "agentland-fixtures/none:1" }],
        },
      };
      await ok(["create", "-f", "-"], json(pod));
      const bound = await eventually("the pod to be bound", async () => {
        const n = (await ok(["-n", ns, "get", "pod", "bound", "-o", "jsonpath={.spec.nodeName}"])).trim();
        return n === "" ? undefined : n;
      });
      expect(bound).toBe(nodeName);
      await ok(["-n", ns, "delete", "pod", "bound", "--grace-period=0", "--force"]);
    } finally {
      await cluster.kubectl(["delete", "node", nodeName, "--wait=false"]);
    }
  });
});

function readyCondition() {
  const now = new Date().toISOString();
  return { type: "Ready", status: "True", reason: "Test", lastHeartbeatTime: now, lastTransitionTime: now };
}
