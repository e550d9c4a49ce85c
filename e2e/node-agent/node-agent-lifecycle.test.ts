/**
 * Pod lifecycle on the host-process node: readiness follows the probe, restartPolicy is honoured with
 * real exit codes, and deletion ends every process of the pod within its grace period before the
 * object goes away (cascades through owners included).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { randomInt } from "node:crypto";
import { echoPod, isReady, nodeTestKit, shellPod, sleepers } from "./testing/node-test-kit";

const kit = nodeTestKit();
afterAll(() => kit.cleanup());
const marker = () => `${3000 + randomInt(900)}.${randomInt(1_000_000)}`;

describe("readiness", () => {
  test("a failing readiness probe keeps the pod un-Ready; once it passes the pod turns Ready", async () => {
    const ns = await kit.namespace("na-ready");
    const probe = { httpGet: { path: "/readyz", port: "http" }, periodSeconds: 1, failureThreshold: 1 };
    await kit.apply(
      ns,
      echoPod("gated", {
        container: { readinessProbe: probe, env: [...echoEnv(), { name: "START_UNREADY", value: "1" }] },
      }),
    );
    const running = await kit.waitForPod(
      ns,
      "gated",
      "running",
      (p) => !!p.status?.containerStatuses?.[0]?.state?.running,
    );
    const ip = running.status?.podIP as string;
    // The server is up and answers; only its probe says no. Watch it stay un-Ready for a while.
    await kit.waitFor("fixture up", async () =>
      (await fetch(`http://${ip}:8080/healthz`).catch(() => undefined))?.ok ? true : undefined,
    );
    for (let i = 0; i < 10; i++) {
      const pod = await kit.getPod(ns, "gated");
      expect(isReady(pod ?? {})).toBe(false);
      expect(pod?.status?.containerStatuses?.[0]?.ready).toBe(false);
      await Bun.sleep(250);
    }
    await fetch(`http://${ip}:8080/ready?value=true`, { method: "POST" });
    const ready = await kit.waitForPod(ns, "gated", "Ready", isReady, 10_000);
    expect(ready.status?.containerStatuses?.[0]?.ready).toBe(true);
    await fetch(`http://${ip}:8080/ready?value=false`, { method: "POST" });
    await kit.waitForPod(ns, "gated", "un-Ready again", (p) => !isReady(p), 10_000);
  }, 60_000);
});

function echoEnv() {
  return [
    { name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
    { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
  ];
}

describe("restartPolicy", () => {
  test("Always: a container that exits is restarted with a growing restartCount", async () => {
    const ns = await kit.namespace("na-always");
    await kit.apply(ns, shellPod("crash", "echo run-$RANDOM; sleep 0.3; exit 3"));
    const pod = await kit.waitForPod(
      ns,
      "crash",
      "restarted twice",
      (p) => (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 2,
      40_000,
    );
    const status = pod.status?.containerStatuses?.[0];
    expect(status?.lastState?.terminated).toMatchObject({ exitCode: 3, reason: "Error" });
    expect(pod.status?.phase).toBe("Running");
    // Every run wrote its own log file.
    expect(kit.logOf(pod, "sh", 0)).toContain("run-");
    expect(kit.logOf(pod, "sh", 1)).toContain("run-");
  }, 60_000);

  test("Never: the pod ends Failed with the container's exit code and termination message", async () => {
    const ns = await kit.namespace("na-never");
    await kit.apply(
      ns,
      shellPod("once", "echo goodbye > /dev/termination-log; exit 7", { restartPolicy: "Never" }),
    );
    const pod = await kit.waitForPod(ns, "once", "Failed", (p) => p.status?.phase === "Failed");
    const terminated = pod.status?.containerStatuses?.[0]?.state?.terminated;
    expect(terminated).toMatchObject({ exitCode: 7, reason: "Error", message: "goodbye\n" });
    expect(pod.status?.containerStatuses?.[0]?.restartCount).toBe(0);
    expect(isReady(pod)).toBe(false);
  }, 60_000);

  test("OnFailure: a container that succeeds is not restarted and the pod Succeeds", async () => {
    const ns = await kit.namespace("na-onfail");
    await kit.apply(ns, shellPod("job", "exit 0", { restartPolicy: "OnFailure" }));
    const pod = await kit.waitForPod(ns, "job", "Succeeded", (p) => p.status?.phase === "Succeeded");
    expect(pod.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({
      exitCode: 0,
      reason: "Completed",
    });
  }, 60_000);
});

describe("deletion", () => {
  test("deleting a pod kills its whole process group, backgrounded grandchild included, and the object disappears", async () => {
    const ns = await kit.namespace("na-delete");
    const [child, grandchild, main] = [marker(), marker(), marker()];
    await kit.apply(
      ns,
      shellPod("tree", `sleep ${child} & (sleep ${grandchild} &); exec sleep ${main}`, {
        terminationGracePeriodSeconds: 20,
      }),
    );
    await kit.waitForPod(ns, "tree", "running", (p) => !!p.status?.containerStatuses?.[0]?.state?.running);
    await kit.waitFor("all three processes", async () =>
      [child, grandchild, main].every((m) => sleepers(m).length === 1) ? true : undefined,
    );
    const started = Date.now();
    const del = await kit.cluster.kubectl(["delete", "pod", "-n", ns, "tree", "--wait=false"]);
    expect(del.code).toBe(0);
    await kit.waitFor(
      "processes gone",
      async () => ([child, grandchild, main].every((m) => sleepers(m).length === 0) ? true : undefined),
      20_000,
    );
    await kit.waitFor(
      "pod object gone",
      async () => ((await kit.getPod(ns, "tree")) ? undefined : true),
      20_000,
    );
    // sleep dies of SIGTERM: far sooner than the 20 s grace period.
    expect(Date.now() - started).toBeLessThan(10_000);
  }, 60_000);

  test("a process that ignores SIGTERM is killed when the grace period ends", async () => {
    const ns = await kit.namespace("na-grace");
    const m = marker();
    await kit.apply(
      ns,
      shellPod("stubborn", `trap '' TERM; sleep ${m} & wait; wait`, { terminationGracePeriodSeconds: 2 }),
    );
    await kit.waitFor("process running", async () => (sleepers(m).length === 1 ? true : undefined));
    const started = Date.now();
    await kit.cluster.kubectl(["delete", "pod", "-n", ns, "stubborn", "--wait=false"]);
    await Bun.sleep(1000);
    expect(sleepers(m)).toHaveLength(1);
    await kit.waitFor("process killed", async () => (sleepers(m).length === 0 ? true : undefined), 10_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    await kit.waitFor(
      "pod object gone",
      async () => ((await kit.getPod(ns, "stubborn")) ? undefined : true),
      10_000,
    );
  }, 60_000);

  test("deleting a Deployment cascades through its ReplicaSet to its pods and their processes", async () => {
    const ns = await kit.namespace("na-cascade");
    const m = marker();
    await kit.apply(ns, {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "sleepers" },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: "sleepers" } },
        template: { metadata: { labels: { app: "sleepers" } }, spec: shellPod("x", `exec sleep ${m}`).spec },
      },
    });
    await kit.waitFor("two pod processes", async () => (sleepers(m).length === 2 ? true : undefined));
    await kit.cluster.kubectl(["delete", "deployment", "-n", ns, "sleepers", "--wait=false"]);
    await kit.waitFor("processes gone", async () => (sleepers(m).length === 0 ? true : undefined), 30_000);
    await kit.waitFor(
      "pods gone",
      async () => {
        const r = await kit.cluster.kubectl(["get", "pods", "-n", ns, "-o", "name"]);
        return r.stdout.trim() === "" ? true : undefined;
      },
      30_000,
    );
  }, 60_000);
});
