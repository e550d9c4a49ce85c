import { describe, expect, test } from "bun:test";
import { buildContainerEnv, ContainerConfigError, containerArgv, expandVars } from "./container-env";
import type { Container, ObjectSource, Pod } from "./pod-types";

/** Secrets and ConfigMaps as the apiserver would return them (data base64 for Secrets). */
const objects: ObjectSource = {
  async secret(ns, name) {
    if (ns !== "team" || name !== "creds") return undefined;
    return { data: { password: Buffer.from("s3cret").toString("base64"), "bad key": "eA==" } };
  },
  async configMap(ns, name) {
    if (ns !== "team" || name !== "settings") return undefined;
    return { data: { mode: "fast", LEVEL: "2" } };
  },
};

const pod: Pod = {
  metadata: {
    name: "p",
    namespace: "team",
    uid: "u-1",
    labels: { app: "a", tier: "web" },
    annotations: { note: 'say "hi"' },
  },
  spec: { nodeName: "n1", serviceAccountName: "robot", containers: [] },
};
const info = { podIP: "127.9.0.1", hostIP: "127.0.0.1", allocatable: { cpu: "4", memory: "8Gi" } };
const api = { host: "127.0.0.1", port: 6443 };
const env = (container: Container) => buildContainerEnv({ pod, container, info, api, objects });

describe("container environment", () => {
  test("downward API, Secret, ConfigMap and resource references resolve as the kubelet resolves them", async () => {
    const e = await env({
      name: "c",
      resources: { requests: { cpu: "250m" }, limits: { memory: "64Mi" } },
      env: [
        { name: "NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
        { name: "NS", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
        { name: "UID", valueFrom: { fieldRef: { fieldPath: "metadata.uid" } } },
        { name: "TIER", valueFrom: { fieldRef: { fieldPath: "metadata.labels['tier']" } } },
        { name: "IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
        { name: "HOST", valueFrom: { fieldRef: { fieldPath: "status.hostIP" } } },
        { name: "NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
        { name: "SA", valueFrom: { fieldRef: { fieldPath: "spec.serviceAccountName" } } },
        { name: "PW", valueFrom: { secretKeyRef: { name: "creds", key: "password" } } },
        { name: "MODE", valueFrom: { configMapKeyRef: { name: "settings", key: "mode" } } },
        { name: "CPU_M", valueFrom: { resourceFieldRef: { resource: "requests.cpu", divisor: "1m" } } },
        { name: "MEM", valueFrom: { resourceFieldRef: { resource: "limits.memory", divisor: "1Mi" } } },
        // No CPU limit: the node's allocatable stands in, as in the kubelet.
        { name: "CPU_LIMIT", valueFrom: { resourceFieldRef: { resource: "limits.cpu" } } },
      ],
    });
    expect(e).toMatchObject({
      NAME: "p",
      NS: "team",
      UID: "u-1",
      TIER: "web",
      IP: "127.9.0.1",
      HOST: "127.0.0.1",
      NODE: "n1",
      SA: "robot",
      PW: "s3cret",
      MODE: "fast",
      CPU_M: "250",
      MEM: "64",
      CPU_LIMIT: "4",
    });
  });

  test("the apiserver is announced first; envFrom comes next and env entries override it", async () => {
    const e = await env({
      name: "c",
      envFrom: [{ configMapRef: { name: "settings" } }, { prefix: "S_", secretRef: { name: "creds" } }],
      env: [
        { name: "mode", value: "slow" },
        { name: "KUBERNETES_SERVICE_HOST", value: "override" },
      ],
    });
    expect(e["KUBERNETES_SERVICE_PORT"]).toBe("6443");
    expect(e["KUBERNETES_PORT_443_TCP"]).toBe("tcp://127.0.0.1:6443");
    expect(e["KUBERNETES_SERVICE_HOST"]).toBe("override");
    expect(e["mode"]).toBe("slow");
    expect(e["LEVEL"]).toBe("2");
    expect(e["S_password"]).toBe("s3cret");
    // Keys that are not valid variable names are skipped, as the kubelet does.
    expect(Object.keys(e).some((k) => k.includes(" "))).toBe(false);
  });

  test("$(VAR) expands against earlier variables; $$ escapes; unknown references stay", async () => {
    expect(expandVars("$(A)-$(B)-$$(A)-$(MISSING)", { A: "x", B: "y" })).toBe("x-y-$(A)-$(MISSING)");
    const e = await env({
      name: "c",
      env: [
        { name: "A", value: "one" },
        { name: "B", value: "$(A)+two" },
        { name: "C", value: "$(D)" },
        { name: "D", value: "late" },
      ],
    });
    expect(e["B"]).toBe("one+two");
    expect(e["C"]).toBe("$(D)");
  });

  test("a missing Secret, ConfigMap or key fails with CreateContainerConfigError unless optional", async () => {
    const missing = [
      { name: "X", valueFrom: { secretKeyRef: { name: "nope", key: "k" } } },
      { name: "X", valueFrom: { configMapKeyRef: { name: "settings", key: "nope" } } },
      { name: "X", valueFrom: { fieldRef: { fieldPath: "metadata.nope" } } },
    ];
    for (const entry of missing) {
      const err = await env({ name: "c", env: [entry] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ContainerConfigError);
      expect((err as ContainerConfigError).reason).toBe("CreateContainerConfigError");
    }
    const e = await env({
      name: "c",
      env: [{ name: "X", valueFrom: { secretKeyRef: { name: "nope", key: "k", optional: true } } }],
      envFrom: [{ configMapRef: { name: "nope", optional: true } }],
    });
    expect(e["X"]).toBeUndefined();
  });
});

describe("container argv", () => {
  const image = { entrypoint: ["/entry"], cmd: ["--default"], env: {} };
  test("command replaces the entrypoint and drops the image's CMD; args alone replace CMD", () => {
    expect(containerArgv({ name: "c" }, image, {})).toEqual(["/entry", "--default"]);
    expect(containerArgv({ name: "c", args: ["--mode=$(MODE)"] }, image, { MODE: "gateway" })).toEqual([
      "/entry",
      "--mode=gateway",
    ]);
    expect(containerArgv({ name: "c", command: ["sh", "-c"] }, image, {})).toEqual(["sh", "-c"]);
    expect(
      containerArgv({ name: "c", command: ["echo"], args: ["$(X)", "$$(X)"] }, image, { X: "1" }),
    ).toEqual(["echo", "1", "$(X)"]);
  });
});
