import { beforeAll, expect, test } from "bun:test";
import { createEventRecorder } from "./event-recorder";
import { CONFIG_MAPS, EVENTS } from "./resources";
import { kubeTestEnv } from "./testdata/kube-test-env";

const env = kubeTestEnv();
const client = env.client();
let ns = "";
beforeAll(async () => {
  ns = await env.cluster.createNamespace("kube-events");
});

test("an Event names the object it is about and shows in kubectl describe; repeats bump its count", async () => {
  const cm = await client.resource(CONFIG_MAPS).create({ metadata: { name: "subject" } }, { namespace: ns });
  const errors: unknown[] = [];
  const recorder = createEventRecorder(client, {
    component: "kube-test",
    instance: "pod-1",
    onError: (e) => errors.push(e),
  });
  const subject = { ...cm, apiVersion: "v1", kind: "ConfigMap" };
  await recorder.record(subject, { type: "Warning", reason: "SomethingOdd", message: "it happened" });
  await recorder.record(subject, { type: "Warning", reason: "SomethingOdd", message: "it happened" });
  await recorder.record(subject, { type: "Normal", reason: "AllGood", message: "fine now" });
  expect(errors).toEqual([]);
  const { items } = await client.resource(EVENTS).list({ namespace: ns });
  const odd = items.find((e) => e.reason === "SomethingOdd");
  expect(items).toHaveLength(2);
  expect(odd?.count).toBe(2);
  expect(odd?.involvedObject).toMatchObject({
    kind: "ConfigMap",
    name: "subject",
    namespace: ns,
    uid: cm.metadata?.uid,
  });
  expect(odd?.reportingComponent).toBe("kube-test");
  expect(odd?.reportingInstance).toBe("pod-1");
  const described = await env.cluster.kubectl(["describe", "configmap", "subject", "-n", ns]);
  expect(described.stdout).toMatch(/Warning\s+SomethingOdd\s+.*it happened/);
  expect(described.stdout).toMatch(/Normal\s+AllGood\s+.*fine now/);
});

test("recording never throws: a failure goes to onError", async () => {
  const errors: unknown[] = [];
  const recorder = createEventRecorder(client, { component: "kube-test", onError: (e) => errors.push(e) });
  await recorder.record(
    { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x", namespace: "no-such-namespace-here" } },
    { type: "Normal", reason: "R", message: "m" },
  );
  expect(errors).toHaveLength(1);
});
