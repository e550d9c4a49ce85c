/**
 * The rest of what pods rely on: exec liveness probes that restart a container, init containers that
 * run first and in order, and mounted Secrets that follow the Secret without a restart.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { echoContainer, echoPod, isReady, nodeTestKit, shellPod } from "./testing/node-test-kit";

const kit = nodeTestKit();
afterAll(() => kit.cleanup());

describe("probes and containers", () => {
  test("a failing exec liveness probe restarts the container", async () => {
    const ns = await kit.namespace("na-live");
    const liveness = { exec: { command: ["cat", "/tmp/alive"] }, periodSeconds: 1, failureThreshold: 2 };
    await kit.apply(ns, {
      ...shellPod("flaky", ""),
      spec: {
        terminationGracePeriodSeconds: 2,
        containers: [
          {
            name: "sh",
            image: "agentland-fixtures/shell:1",
            command: ["/bin/sh", "-c", "touch /tmp/alive; sleep 2; rm /tmp/alive; exec sleep 3600"],
            livenessProbe: liveness,
          },
        ],
      },
    });
    const pod = await kit.waitForPod(
      ns,
      "flaky",
      "restarted by its liveness probe",
      (p) => (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1,
      40_000,
    );
    const last = pod.status?.containerStatuses?.[0]?.lastState?.terminated;
    // sleep dies of the SIGTERM the kubelet-style kill sends.
    expect(last?.exitCode).toBe(143);
    const events = await kit.cluster.kubectl([
      "get",
      "events",
      "-n",
      ns,
      "-o",
      "jsonpath={.items[*].reason}",
    ]);
    expect(events.stdout.split(" ")).toEqual(expect.arrayContaining(["Unhealthy", "Killing"]));
  }, 60_000);

  test("init containers run to completion, one after another, before the app container starts", async () => {
    const ns = await kit.namespace("na-init");
    const step = (name: string) => ({
      name,
      image: "agentland-fixtures/shell:1",
      command: ["/bin/sh", "-c", `echo ${name} >> /work/order`],
      volumeMounts: [{ name: "work", mountPath: "/work" }],
    });
    await kit.apply(ns, {
      ...echoPod("ordered"),
      spec: {
        terminationGracePeriodSeconds: 2,
        volumes: [{ name: "work", emptyDir: {} }],
        initContainers: [step("first"), step("second")],
        containers: [{ ...echoContainer(), volumeMounts: [{ name: "work", mountPath: "/work" }] }],
      },
    });
    const pod = await kit.waitForPod(ns, "ordered", "Ready", isReady);
    expect(pod.status?.initContainerStatuses?.map((s) => s.state?.terminated?.exitCode)).toEqual([0, 0]);
    const order = await fetch(`http://${pod.status?.podIP}:8080/file?path=/work/order`);
    expect(await order.text()).toBe("first\nsecond\n");
  }, 60_000);

  test("a mounted Secret follows changes of the Secret while the pod runs", async () => {
    const ns = await kit.namespace("na-rotate");
    const secret = (value: string) => ({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "keys" },
      stringData: { current: value },
    });
    await kit.apply(ns, secret("v1"), {
      ...echoPod("reader"),
      spec: {
        terminationGracePeriodSeconds: 2,
        volumes: [{ name: "keys", secret: { secretName: "keys" } }],
        containers: [
          { ...echoContainer(), volumeMounts: [{ name: "keys", mountPath: "/etc/keys", readOnly: true }] },
        ],
      },
    });
    const pod = await kit.waitForPod(ns, "reader", "Ready", isReady);
    const read = async () =>
      (await fetch(`http://${pod.status?.podIP}:8080/file?path=/etc/keys/current`)).text();
    expect(await read()).toBe("v1");
    await kit.apply(ns, secret("v2"));
    await kit.waitFor(
      "the new key in the pod",
      async () => ((await read()) === "v2" ? true : undefined),
      30_000,
    );
    const after = await kit.getPod(ns, "reader");
    expect(after?.status?.containerStatuses?.[0]?.restartCount).toBe(0);
  }, 60_000);
});
