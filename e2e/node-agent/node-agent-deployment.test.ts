/**
 * Pods of a Deployment really run on the host-process node: reachable at their own loopback pod IPs,
 * all on the same container port, and the Deployment reports them Available.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { inPodNetwork, podNetworkFor } from "./pod-network";
import type { Pod } from "./pod-types";
import { echoContainer, echoPod, isReady, nodeTestKit } from "./testing/node-test-kit";

const kit = nodeTestKit();
afterAll(() => kit.cleanup());

describe("a Deployment on the host-process node", () => {
  test("becomes Available and every replica serves on its own pod IP at the same port", async () => {
    const ns = await kit.namespace("na-deploy");
    await kit.apply(ns, {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "echo" },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: "echo" } },
        template: {
          metadata: { labels: { app: "echo" } },
          spec: {
            terminationGracePeriodSeconds: 5,
            containers: [
              {
                ...echoContainer(),
                readinessProbe: { httpGet: { path: "/readyz", port: "http" }, periodSeconds: 2 },
              },
            ],
          },
        },
      },
    });
    await kit.waitFor("deployment echo Available", async () => {
      const r = await kit.cluster.kubectl(["get", "deploy", "-n", ns, "echo", "-o", "json"]);
      const d = JSON.parse(r.stdout) as {
        status?: { conditions?: { type: string; status: string }[]; availableReplicas?: number };
      };
      const available = d.status?.conditions?.some((c) => c.type === "Available" && c.status === "True");
      return available && d.status?.availableReplicas === 2 ? true : undefined;
    });
    const list = await kit.cluster.kubectl(["get", "pods", "-n", ns, "-l", "app=echo", "-o", "json"]);
    const pods = (JSON.parse(list.stdout) as { items: Pod[] }).items;
    expect(pods).toHaveLength(2);
    const ips = pods.map((p) => p.status?.podIP ?? "");
    expect(new Set(ips).size).toBe(2);
    const network = podNetworkFor(kit.cluster.name, kit.cluster.nodeName);
    for (const pod of pods) {
      expect(isReady(pod)).toBe(true);
      const ip = pod.status?.podIP ?? "";
      expect(inPodNetwork(network, ip)).toBe(true);
      expect(pod.status?.podIPs).toEqual([{ ip }]);
      const res = await fetch(`http://${ip}:8080/`);
      const body = (await res.json()) as { pod: string; ip: string; hostname: string };
      // Each address answers with its own pod: the replicas share port 8080, not a socket.
      expect(body).toMatchObject({ pod: pod.metadata?.name, ip, hostname: pod.metadata?.name });
    }
  }, 60_000);

  test("an image with no mapping waits with ErrImageNeverPull and is never reported Running", async () => {
    const ns = await kit.namespace("na-image");
    await kit.apply(ns, echoPod("nginx", { container: { image: "docker.io/library/nginx:1.27" } }));
    const pod = await kit.waitForPod(
      ns,
      "nginx",
      "waiting with ErrImageNeverPull",
      (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === "ErrImageNeverPull",
    );
    const status = pod.status?.containerStatuses?.[0];
    expect(status?.state?.waiting?.message).toContain("docker.io/library/nginx:1.27");
    expect(status?.state?.running).toBeUndefined();
    expect(pod.status?.phase).toBe("Pending");
    expect(isReady(pod)).toBe(false);
  }, 60_000);
});
