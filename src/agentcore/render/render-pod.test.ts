import { describe, expect, test } from "bun:test";
import { parseSandbox, type SandboxInput } from "../../api/sandbox";
import { JWKS_MOUNT_PATH, renderSandboxPod } from "./render-pod";
import { restrictedViolations } from "./restricted-profile";

function sandbox(template: Record<string, unknown>, extra: Partial<SandboxInput> = {}) {
  return parseSandbox({
    apiVersion: "agentland.fl0rencess720.app/v1alpha1",
    kind: "Sandbox",
    metadata: {
      name: "sbx-1",
      namespace: "ns",
      uid: "uid-1",
      labels: { "agentland.fl0rencess720.app/pool": "p" },
    },
    spec: { sandboxTemplate: template, templateHash: "abc" },
    ...extra,
  });
}
const opts = { jwksConfigMap: "agentland-sandbox-jwks" };
const container = (t: Record<string, unknown>) => {
  const c = renderSandboxPod(sandbox(t), opts).spec?.containers[0];
  if (!c) throw new Error("no container");
  return c;
};

describe("renderSandboxPod", () => {
  const templates: Record<string, unknown>[] = [
    { image: "agentland/code-interpreter:0.1.0", readinessPath: "/health" },
    { image: "agent:1", command: ["/bin/agent"], args: ["--x"], port: 8080, runtimeClassName: "gvisor" },
    {
      image: "agent:1",
      env: [{ name: "K", valueFrom: { secretKeyRef: { name: "s", key: "k" } } }],
      nodeSelector: { zone: "a" },
      tolerations: [{ key: "sandbox", operator: "Exists", effect: "NoSchedule" }],
      labels: { team: "x" },
      annotations: { note: "y" },
    },
  ];

  test("every rendered pod passes the restricted Pod Security Standard", () => {
    for (const t of templates) expect(restrictedViolations(renderSandboxPod(sandbox(t), opts))).toEqual([]);
  });

  test("the restricted check is not vacuous: it rejects root, privilege and host paths", () => {
    const pod = renderSandboxPod(sandbox(templates[0] ?? {}), opts);
    const c = pod.spec?.containers[0];
    if (!pod.spec || !c) throw new Error("no spec");
    c.securityContext = {
      ...c.securityContext,
      privileged: true,
      allowPrivilegeEscalation: true,
      runAsUser: 0,
    };
    pod.spec.volumes = [...(pod.spec.volumes ?? []), { name: "h", hostPath: { path: "/" } }];
    pod.spec.hostNetwork = true;
    expect(restrictedViolations(pod).length).toBeGreaterThanOrEqual(5);
  });

  test("pods are hardened whatever the template says", () => {
    const pod = renderSandboxPod(sandbox(templates[1] ?? {}), opts);
    expect(pod.spec?.automountServiceAccountToken).toBe(false);
    expect(pod.spec?.enableServiceLinks).toBe(false);
    expect(pod.spec?.runtimeClassName).toBe("gvisor");
    const c = container(templates[1] ?? {});
    expect(c.securityContext?.readOnlyRootFilesystem).toBe(true);
    expect(c.volumeMounts?.map((m) => m.mountPath).sort()).toEqual([
      "/etc/agentland/jwks",
      "/tmp",
      "/workspace",
    ]);
    expect(c.resources?.requests).toEqual({ cpu: "100m", memory: "128Mi" });
    expect(c.resources?.limits).toEqual({ cpu: "1", memory: "512Mi" });
  });

  test("the pod's identity comes from the downward API and a template cannot override it", () => {
    const c = container({
      image: "x",
      env: [
        { name: "POD_NAME", value: "someone-else" },
        { name: "A", value: "1" },
      ],
    });
    const byName = new Map((c.env ?? []).map((e) => [e.name, e]));
    expect(byName.get("POD_NAME")?.valueFrom?.fieldRef?.fieldPath).toBe("metadata.name");
    expect(byName.get("POD_NAMESPACE")?.valueFrom?.fieldRef?.fieldPath).toBe("metadata.namespace");
    expect(byName.get("POD_IP")?.valueFrom?.fieldRef?.fieldPath).toBe("status.podIP");
    expect((c.env ?? []).filter((e) => e.name === "POD_NAME")).toHaveLength(1);
    expect(byName.get("A")?.value).toBe("1");
  });

  test("the gateway's JWKS is mounted read-only where korokd looks, and never blocks pod start", () => {
    const pod = renderSandboxPod(sandbox(templates[0] ?? {}), opts);
    const volume = pod.spec?.volumes?.find((v) => v.configMap);
    expect(volume?.configMap).toEqual({
      name: "agentland-sandbox-jwks",
      optional: true,
      items: [{ key: "jwks.json", path: "jwks.json" }],
    });
    const mount = pod.spec?.containers[0]?.volumeMounts?.find((m) => m.name === volume?.name);
    expect(mount).toEqual({ name: volume?.name ?? "", mountPath: JWKS_MOUNT_PATH, readOnly: true });
  });

  test("readiness is probed on the sandbox port: HTTP on readinessPath, else TCP", () => {
    expect(container(templates[0] ?? {}).readinessProbe?.httpGet?.path).toBe("/health");
    expect(container(templates[1] ?? {}).readinessProbe?.tcpSocket?.port).toBe("sandbox");
    // The same check starts every second until it first passes, then runs every 5 s.
    for (const t of templates.slice(0, 2)) {
      const c = container(t ?? {});
      const { periodSeconds: _s, failureThreshold: startupFailures, ...startup } = c.startupProbe ?? {};
      const { periodSeconds: _r, failureThreshold: _f, ...readiness } = c.readinessProbe ?? {};
      expect(startup).toEqual(readiness);
      expect(c.startupProbe?.periodSeconds).toBe(1);
      expect((startupFailures ?? 0) * (c.startupProbe?.periodSeconds ?? 0)).toBe(300);
      expect(c.readinessProbe?.periodSeconds).toBe(5);
    }
    expect(container(templates[1] ?? {}).ports).toEqual([
      { name: "sandbox", containerPort: 8080, protocol: "TCP" },
    ]);
  });

  test("the pod is controlled by its Sandbox and carries its provenance labels", () => {
    const pod = renderSandboxPod(sandbox(templates[2] ?? {}), opts);
    expect(pod.metadata?.ownerReferences).toEqual([
      {
        apiVersion: "agentland.fl0rencess720.app/v1alpha1",
        kind: "Sandbox",
        name: "sbx-1",
        uid: "uid-1",
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    expect(pod.metadata?.labels).toMatchObject({
      team: "x",
      "agentland.fl0rencess720.app/pool": "p",
      "agentland.fl0rencess720.app/sandbox": "sbx-1",
      "agentland.fl0rencess720.app/template-hash": "abc",
      "app.kubernetes.io/managed-by": "agentland",
    });
    expect(pod.metadata?.annotations).toEqual({ note: "y" });
  });
});
