/**
 * Static checks of the install manifests: what the issue requires of them (hardening, least privilege,
 * kustomize coverage) and agreement with the names agentland's code uses. The apiserver-side checks are in
 * install.test.ts and rbac.test.ts.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import * as v from "valibot";
import { agentcoreSettings, gatewaySettings } from "../config/modes";
import { GROUP } from "./group";
import {
  AGENTCORE_LEASE,
  COMPONENT_PORTS,
  DEFAULT_SANDBOX_NAMESPACE,
  GATEWAY_API_KEYS_SECRET,
  GATEWAY_SIGNING_KEYS_SECRET,
  SANDBOX_JWKS_CONFIGMAP,
  SERVICE_ACCOUNTS,
  SYSTEM_NAMESPACE,
} from "./install-names";
import { ALL_KINDS } from "./kinds";
import { LABELS, SANDBOX_PORT_NAME } from "./reserved-keys";
import { MANIFESTS_DIR } from "./write-crds";

// Shapes of the manifest objects, only as far as these tests read them.
interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: manifests are free-form YAML; each test reads what it checks.
  spec?: any;
  rules?: Rule[];
  roleRef?: { kind: string; name: string };
  subjects?: { kind: string; name: string; namespace: string }[];
}
interface Rule {
  apiGroups: string[];
  resources: string[];
  resourceNames?: string[];
  verbs: string[];
}

const files = readdirSync(MANIFESTS_DIR).filter((f) => f.endsWith(".yaml"));
const objects: Obj[] = files.flatMap((f) => {
  const parsed = Bun.YAML.parse(readFileSync(join(MANIFESTS_DIR, f), "utf8")) as Obj | Obj[];
  return Array.isArray(parsed) ? parsed : [parsed];
});
const find = (kind: string, name: string, namespace?: string) => {
  const hit = objects.find(
    (o) =>
      o.kind === kind &&
      o.metadata.name === name &&
      (namespace === undefined || o.metadata.namespace === namespace),
  );
  if (!hit) throw new Error(`no ${kind} ${namespace ?? ""}/${name} in manifests/`);
  return hit;
};
const gatewayConfig = v.parse(gatewaySettings, {});
const agentcoreConfig = v.parse(agentcoreSettings, {});

describe("kubectl apply -f manifests / -k manifests", () => {
  test("the Kustomization lists every manifest file, and kubectl -f does not read it", () => {
    const kustomization = Bun.YAML.parse(readFileSync(join(MANIFESTS_DIR, "Kustomization"), "utf8")) as {
      resources: string[];
    };
    expect(kustomization.resources).toEqual([...files].sort());
    expect(files).not.toContain("kustomization.yaml");
  });

  test("no custom resource is applied with its CRD (examples live in a subfolder kubectl -f does not recurse)", () => {
    expect(objects.filter((o) => o.apiVersion.startsWith(`${GROUP}/`))).toEqual([]);
    expect(readdirSync(join(MANIFESTS_DIR, "examples")).sort()).toEqual([
      "agent-runtime.yaml",
      "code-interpreter.yaml",
      "sandbox-pool.yaml",
    ]);
  });

  test("both namespaces enforce the restricted Pod Security Standard", () => {
    for (const name of [SYSTEM_NAMESPACE, DEFAULT_SANDBOX_NAMESPACE]) {
      expect(find("Namespace", name).metadata.labels?.["pod-security.kubernetes.io/enforce"]).toBe(
        "restricted",
      );
    }
  });
});

describe("deployments", () => {
  // agentcore serves gRPC on `rpc`, and the gateway's Connect over HTTP/2, browser RPC over HTTP/1.1, health
  // and metrics on `http`.
  const components = [
    {
      component: "agentcore",
      mode: "agentcore",
      ports: { rpc: COMPONENT_PORTS.agentcore, http: COMPONENT_PORTS.agentcoreHttp },
      env: {
        AGENTLAND_LISTEN_PORT: COMPONENT_PORTS.agentcore,
        AGENTLAND_HTTP_PORT: COMPONENT_PORTS.agentcoreHttp,
      },
    },
    {
      component: "gateway",
      mode: "gateway",
      ports: { http: COMPONENT_PORTS.gateway },
      env: { AGENTLAND_LISTEN_PORT: COMPONENT_PORTS.gateway },
    },
  ] as const;
  for (const c of components) {
    const deployment = find("Deployment", SERVICE_ACCOUNTS[c.component], SYSTEM_NAMESPACE);
    const pod = deployment.spec.template.spec;
    const [container] = pod.containers;

    test(`${c.component}: 2 replicas of the control-plane image in --mode=${c.mode}, with its ServiceAccount`, () => {
      expect(deployment.spec.replicas).toBe(2);
      expect(pod.containers.length).toBe(1);
      expect(container.image).toBe("agentland/control-plane:0.1.0");
      expect(container.args).toEqual([`--mode=${c.mode}`]);
      expect(pod.serviceAccountName).toBe(SERVICE_ACCOUNTS[c.component]);
    });

    test(`${c.component}: hardened (non-root, read-only root, no escalation, no capabilities, RuntimeDefault)`, () => {
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: "RuntimeDefault" },
      });
      expect(container.securityContext).toEqual({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
        capabilities: { drop: ["ALL"] },
        seccompProfile: { type: "RuntimeDefault" },
      });
      expect(pod.enableServiceLinks).toBe(false);
      for (const kind of ["requests", "limits"])
        expect(Object.keys(container.resources[kind]).sort()).toEqual(["cpu", "memory"]);
      // Probes speak HTTP/1.1: they go to the `http` port.
      expect(container.readinessProbe.httpGet.port).toBe("http");
      expect(container.livenessProbe.httpGet.port).toBe("http");
    });

    test(`${c.component}: listens on its ports, trusts the ServiceAccount CA, knows its pod from the downward API`, () => {
      const env = Object.fromEntries(container.env.map((e: { name: string }) => [e.name, e]));
      for (const [name, port] of Object.entries(c.env))
        expect([name, env[name]?.value]).toEqual([name, String(port)]);
      expect(container.ports).toEqual(
        Object.entries(c.ports).map(([name, containerPort]) => ({ name, containerPort, protocol: "TCP" })),
      );
      expect(env.NODE_EXTRA_CA_CERTS.value).toBe("/var/run/secrets/kubernetes.io/serviceaccount/ca.crt");
      expect(env.POD_IP.valueFrom.fieldRef.fieldPath).toBe("status.podIP");
      expect(env.POD_NAME.valueFrom.fieldRef.fieldPath).toBe("metadata.name");
      expect(env.POD_NAMESPACE.valueFrom.fieldRef.fieldPath).toBe("metadata.namespace");
      for (const name of Object.keys(env)) {
        if (name.startsWith("AGENTLAND_")) {
          const setting = name.slice("AGENTLAND_".length).toLowerCase().replaceAll("_", "-");
          const schema = c.component === "gateway" ? gatewaySettings : agentcoreSettings;
          expect([name, setting in schema.entries]).toEqual([name, true]);
        }
      }
    });

    test(`${c.component}: a Service and a PodDisruptionBudget select its pods`, () => {
      const selector = deployment.spec.selector.matchLabels;
      expect(deployment.spec.template.metadata.labels).toMatchObject(selector);
      const service = find("Service", SERVICE_ACCOUNTS[c.component], SYSTEM_NAMESPACE);
      expect(service.spec.selector).toEqual(selector);
      // Every container port is served under its own name (the gateway calls agentcore's `http` port).
      expect(service.spec.ports.map((p: { name: string; port: number }) => [p.name, p.port])).toEqual(
        Object.entries(c.ports),
      );
      expect(
        find("PodDisruptionBudget", SERVICE_ACCOUNTS[c.component], SYSTEM_NAMESPACE).spec.selector
          .matchLabels,
      ).toEqual(selector);
    });
  }

  test("the gateway mounts its API keys where its config looks for them", () => {
    const pod = find("Deployment", SERVICE_ACCOUNTS.gateway, SYSTEM_NAMESPACE).spec.template.spec;
    const volume = pod.volumes.find((vol: { secret?: { secretName: string } }) => vol.secret);
    expect(volume.secret).toEqual({ secretName: GATEWAY_API_KEYS_SECRET, optional: true });
    const mount = pod.containers[0].volumeMounts.find((m: { name: string }) => m.name === volume.name);
    expect(mount.mountPath).toBe(dirname(gatewayConfig["api-keys-path"]));
  });
});

describe("names shared by code and manifests", () => {
  test("the signing-key Secret and JWKS ConfigMap are shipped under the names the components use", () => {
    expect(gatewayConfig["signing-key-secret"]).toBe(GATEWAY_SIGNING_KEYS_SECRET);
    expect(gatewayConfig["jwks-configmap"]).toBe(SANDBOX_JWKS_CONFIGMAP);
    expect(agentcoreConfig["jwks-configmap"]).toBe(SANDBOX_JWKS_CONFIGMAP);
    expect(find("Secret", GATEWAY_SIGNING_KEYS_SECRET, SYSTEM_NAMESPACE)).not.toHaveProperty("data");
    expect(find("ConfigMap", SANDBOX_JWKS_CONFIGMAP, DEFAULT_SANDBOX_NAMESPACE)).not.toHaveProperty("data");
  });

  test("agentcore's lease, namespaces and ports are its config defaults", () => {
    expect(agentcoreConfig["leader-election-lease"]).toBe(AGENTCORE_LEASE);
    expect(agentcoreConfig["allowed-namespaces"]).toEqual([DEFAULT_SANDBOX_NAMESPACE]);
    expect(agentcoreConfig["listen-port"]).toBe(COMPONENT_PORTS.agentcore);
    expect(agentcoreConfig["http-port"]).toBe(COMPONENT_PORTS.agentcoreHttp);
    expect(gatewayConfig["listen-port"]).toBe(COMPONENT_PORTS.gateway);
    expect(gatewayConfig["agentcore-url"]).toBe(
      `http://${SERVICE_ACCOUNTS.agentcore}.${SYSTEM_NAMESPACE}.svc:${COMPONENT_PORTS.agentcoreHttp}`,
    );
  });

  test("the sandbox NetworkPolicy admits only gateway pods, to the named sandbox port of sandbox pods", () => {
    const policy = find("NetworkPolicy", "agentland-allow-gateway", DEFAULT_SANDBOX_NAMESPACE);
    expect(policy.spec.podSelector.matchExpressions).toEqual([{ key: LABELS.sandbox, operator: "Exists" }]);
    expect(policy.spec.ingress).toEqual([
      {
        from: [
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": SYSTEM_NAMESPACE } },
            podSelector: {
              matchLabels: {
                "app.kubernetes.io/name": "agentland",
                "app.kubernetes.io/component": "gateway",
              },
            },
          },
        ],
        ports: [{ protocol: "TCP", port: SANDBOX_PORT_NAME }],
      },
    ]);
    const deny = find("NetworkPolicy", "agentland-default-deny-ingress", DEFAULT_SANDBOX_NAMESPACE);
    expect(deny.spec).toEqual({ podSelector: {}, policyTypes: ["Ingress"] });
  });

  test("agentcore's RPC ports admit only gateway pods", () => {
    const policy = find("NetworkPolicy", "agentland-agentcore", SYSTEM_NAMESPACE);
    expect(policy.spec.ingress).toEqual([
      {
        from: [
          {
            podSelector: {
              matchLabels: {
                "app.kubernetes.io/name": "agentland",
                "app.kubernetes.io/component": "gateway",
              },
            },
          },
        ],
        ports: [
          { protocol: "TCP", port: "http" },
          { protocol: "TCP", port: "rpc" },
        ],
      },
    ]);
  });
});

describe("RBAC is least privilege", () => {
  const rules = objects
    .filter((o) => o.kind === "ClusterRole" || o.kind === "Role")
    .flatMap((o) => o.rules ?? []);

  test("no wildcards anywhere", () => {
    for (const rule of rules) {
      expect([...rule.apiGroups, ...rule.resources, ...rule.verbs]).not.toContain("*");
    }
  });

  test("Secrets appear in exactly one rule: the gateway's, for its one Secret, without create or list", () => {
    const secretRules = objects.flatMap((o) =>
      (o.rules ?? [])
        .filter((r) => r.resources.includes("secrets"))
        .map((r) => ({ ...r, in: `${o.kind}/${o.metadata.name}` })),
    );
    expect(secretRules).toEqual([
      {
        apiGroups: [""],
        resources: ["secrets"],
        resourceNames: [GATEWAY_SIGNING_KEYS_SECRET],
        verbs: ["get", "watch", "update", "patch"],
        in: "Role/agentland-gateway-signing-keys",
      },
    ]);
  });

  test("agentcore's cluster-wide rules cover exactly agentland's six kinds", () => {
    const role = find("ClusterRole", SERVICE_ACCOUNTS.agentcore);
    const plurals = ALL_KINDS.map((k) => k.names.plural).sort();
    for (const rule of role.rules ?? []) expect(rule.apiGroups).toEqual([GROUP]);
    const [main, status, finalizers] = role.rules ?? [];
    expect([...(main?.resources ?? [])].sort()).toEqual(plurals);
    expect([...(status?.resources ?? [])].sort()).toEqual(plurals.map((p) => `${p}/status`));
    expect([...(finalizers?.resources ?? [])].sort()).toEqual(plurals.map((p) => `${p}/finalizers`));
  });

  test("namespace-wide grants reach only the shipped sandbox namespace and the system namespace", () => {
    const bindings = objects.filter((o) => o.kind === "RoleBinding");
    for (const binding of bindings) {
      expect([SYSTEM_NAMESPACE, DEFAULT_SANDBOX_NAMESPACE]).toContain(binding.metadata.namespace as string);
    }
    const clusterBindings = objects
      .filter((o) => o.kind === "ClusterRoleBinding")
      .map((o) => o.roleRef?.name);
    expect(clusterBindings.sort()).toEqual([SERVICE_ACCOUNTS.agentcore, SERVICE_ACCOUNTS.gateway]);
  });
});
