import { describe, expect, test } from "bun:test";
import { renderHostsFile } from "./hosts-file";
import type { Pod, Service } from "./pod-types";
import { serviceAddresses } from "./service-endpoints";

const svc = (name: string, selector: Record<string, string> | undefined, extra: object = {}): Service => ({
  metadata: { name, namespace: "ns" },
  spec: { ...(selector ? { selector } : {}), ports: [{ port: 80 }], ...extra },
});
const pod = (
  name: string,
  ip: string,
  labels: Record<string, string>,
  ready = true,
  extra: Partial<Pod> = {},
): Pod => ({
  metadata: { name, namespace: "ns", labels },
  spec: { containers: [] },
  status: { phase: "Running", podIP: ip, conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
  ...extra,
});

describe("service endpoints", () => {
  test("a Service selects Ready, live pods of its namespace with IPs, lowest IP first", () => {
    const pods = [
      pod("b", "127.9.0.20", { app: "web" }),
      pod("a", "127.9.0.3", { app: "web" }),
      pod("unready", "127.9.0.1", { app: "web" }, false),
      pod("other-app", "127.9.0.2", { app: "db" }),
      pod("done", "127.9.0.4", { app: "web" }, true, { status: { phase: "Succeeded", podIP: "127.9.0.4" } }),
      pod("deleting", "127.9.0.5", { app: "web" }, true, {
        metadata: {
          name: "deleting",
          namespace: "ns",
          labels: { app: "web" },
          deletionTimestamp: "2026-01-01T00:00:00Z",
        },
      }),
      {
        ...pod("elsewhere", "127.9.0.6", { app: "web" }),
        metadata: { name: "elsewhere", namespace: "other", labels: { app: "web" } },
      },
    ];
    const [web] = serviceAddresses([svc("web", { app: "web" })], pods);
    expect(web?.endpoints.map((e) => e.ip)).toEqual(["127.9.0.3", "127.9.0.20"]);
  });

  test("publishNotReadyAddresses includes unready pods; selector-less and ExternalName Services get nothing", () => {
    const pods = [pod("unready", "127.9.0.1", { app: "web" }, false)];
    const out = serviceAddresses(
      [
        svc("web", { app: "web" }, { publishNotReadyAddresses: true }),
        svc("manual", undefined),
        svc("ext", { app: "web" }, { type: "ExternalName" }),
      ],
      pods,
    );
    expect(out.map((s) => s.name)).toEqual(["web"]);
    expect(out[0]?.endpoints).toEqual([{ ip: "127.9.0.1" }]);
  });
});

describe("the pod hosts file", () => {
  const services = serviceAddresses(
    [
      svc("web", { app: "web" }),
      { ...svc("db", { app: "db" }), metadata: { name: "db", namespace: "data" } },
      svc("empty", { app: "none" }),
    ],
    [
      pod("w", "127.9.0.3", { app: "web" }),
      {
        ...pod("d", "127.9.0.7", { app: "db" }),
        metadata: { name: "d", namespace: "data", labels: { app: "db" } },
      },
    ],
  );
  const text = renderHostsFile({
    namespace: "ns",
    podIP: "127.9.0.9",
    hostname: "me",
    apiserverHost: "127.0.0.1",
    services,
  });
  const lines = text.trim().split("\n");

  test("names the pod itself, localhost and the apiserver's Service names", () => {
    expect(lines).toContain("127.0.0.1\tlocalhost");
    expect(lines).toContain("127.9.0.9\tme");
    expect(lines).toContain(
      "127.0.0.1\tkubernetes.default.svc kubernetes.default.svc.cluster.local kubernetes.default",
    );
  });

  test("Services resolve by qualified names everywhere and by short names in the pod's own namespace", () => {
    expect(lines).toContain("127.9.0.3\tweb.ns.svc web.ns.svc.cluster.local web web.ns");
    expect(lines).toContain("127.9.0.7\tdb.data.svc db.data.svc.cluster.local");
    // A Service without a serving pod does not resolve at all (like a real Service: nothing answers).
    expect(text).not.toContain("empty.ns");
  });
});
