import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { EVENTS } from "../../kube/resources";
import { createEventRecorder } from "./event-recorder";
import { adminClient, controllerNamespace, eventually, kubectl } from "./testing/controller-fixture";

let ns: string;
const client = adminClient();

beforeAll(async () => {
  ns = await controllerNamespace("ctl-events");
}, 60_000);
afterAll(async () => {
  await kubectl(["delete", "ns", ns, "--wait=false"]);
});

describe("event recorder", () => {
  test("events give way under load: a burst records at most the bucket's burst, the rest is dropped", async () => {
    const recorder = createEventRecorder({
      client,
      instance: "test",
      now: Date.now,
      random: Math.random,
      qps: 1,
      burst: 5,
    });
    const involved = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "x", namespace: ns, uid: "u" },
    };
    for (let i = 0; i < 40; i++) recorder.record(involved, "Normal", "Burst", `event ${i}`);
    await recorder.flush();
    const events = (await client.resource(EVENTS).list({ namespace: ns })).items.filter(
      (e) => e.reason === "Burst",
    );
    expect(events.length).toBeGreaterThanOrEqual(5);
    expect(events.length).toBeLessThanOrEqual(6);
    expect(events[0]).toMatchObject({
      type: "Normal",
      involvedObject: { kind: "ConfigMap", name: "x" },
      reportingComponent: "agentland-agentcore",
    });
    // The bucket refills: a later event is recorded again.
    await Bun.sleep(1_100);
    recorder.record(involved, "Warning", "Later", "after the burst");
    await recorder.flush();
    await eventually("the later event", async () =>
      (await client.resource(EVENTS).list({ namespace: ns })).items.some((e) => e.reason === "Later")
        ? true
        : undefined,
    );
  });
});
