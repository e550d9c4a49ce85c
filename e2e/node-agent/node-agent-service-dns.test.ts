/**
 * Pods reach Services by name on the host-process node: `<svc>.<ns>.svc[.cluster.local]`, and `<svc>`
 * within the namespace, resolve (through the pod's /etc/hosts) to a Ready pod of the Service, and follow
 * the Service when its pods change. The port is the targetPort (no Service port mapping here).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { echoPod, isReady, nodeTestKit } from "./testing/node-test-kit";

const kit = nodeTestKit();
afterAll(() => kit.cleanup());

async function fetchFrom(
  clientIp: string,
  url: string,
): Promise<{ status: number; body: string; error?: string }> {
  const res = await fetch(`http://${clientIp}:8080/fetch?url=${encodeURIComponent(url)}`);
  return (await res.json()) as { status: number; body: string; error?: string };
}

describe("Service names", () => {
  test("a pod reaches another pod through the Service's DNS names, and follows it to a replacement pod", async () => {
    const ns = await kit.namespace("na-dns");
    const other = await kit.namespace("na-dns-other");
    const service = {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "backend" },
      spec: { selector: { app: "backend" }, ports: [{ name: "http", port: 8080, targetPort: "http" }] },
    };
    await kit.apply(ns, service, echoPod("backend-1", { labels: { app: "backend" } }), echoPod("client"));
    await kit.apply(other, echoPod("stranger"));
    const client = await kit.waitForPod(ns, "client", "Ready", isReady);
    const stranger = await kit.waitForPod(other, "stranger", "Ready", isReady);
    await kit.waitForPod(ns, "backend-1", "Ready", isReady);

    const expectBackend = async (clientIp: string, host: string, pod: string) =>
      kit.waitFor(
        `${host} → ${pod}`,
        async () => {
          const r = await fetchFrom(clientIp, `http://${host}:8080/`);
          return r.status === 200 && JSON.parse(r.body).pod === pod ? true : undefined;
        },
        15_000,
      );
    const clientIp = client.status?.podIP as string;
    await expectBackend(clientIp, `backend.${ns}.svc`, "backend-1");
    await expectBackend(clientIp, `backend.${ns}.svc.cluster.local`, "backend-1");
    await expectBackend(clientIp, "backend", "backend-1");
    // From another namespace only the qualified names resolve, as with a real resolv.conf search path.
    const strangerIp = stranger.status?.podIP as string;
    await expectBackend(strangerIp, `backend.${ns}.svc`, "backend-1");
    const short = await fetchFrom(strangerIp, "http://backend:8080/");
    expect(short.status).toBe(0);

    // Replace the Service's pod: the name moves to the new pod once it is Ready.
    await kit.cluster.kubectl(["delete", "pod", "-n", ns, "backend-1", "--wait=true"]);
    await kit.apply(ns, echoPod("backend-2", { labels: { app: "backend" } }));
    await kit.waitForPod(ns, "backend-2", "Ready", isReady);
    await expectBackend(clientIp, `backend.${ns}.svc`, "backend-2");
  }, 60_000);
});
