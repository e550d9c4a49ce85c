/**
 * The activity recorder with a fake clock against the real apiserver: every request it makes goes through
 * a recording proxy, so "heavy traffic does not turn into apiserver writes" is counted, not assumed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type FaultProxy, startFaultProxy } from "../../../e2e/harness/fault-proxy";
import { createKubeClient, type KubeClient } from "../../kube/kube-client";
import { loadKubeconfigFile } from "../../kube/kube-config";
import { CODE_INTERPRETER_KIND as CI, type SessionObject } from "../sessions/session-kinds";
import { cluster, installSessionCrds, kubectl, sessionFor } from "../testing/agentcore-fixture";
import { createActivityRecorder } from "./activity-recorder";

const T0 = Date.parse("2030-01-01T00:00:00Z");
const INTERVAL = 10_000;
let ns = "";
let proxy: FaultProxy;
let client: KubeClient;
const config = loadKubeconfigFile(cluster.kubeconfig);

const patches = () => proxy.requests.filter((r) => r.method === "PATCH");
const readyAt = (ms: number) => ({
  phase: "Ready",
  startTime: new Date(ms).toISOString(),
  conditions: [
    {
      type: "Ready",
      status: "True",
      reason: "SandboxReady",
      message: "",
      lastTransitionTime: new Date(ms).toISOString(),
    },
  ],
});

/** A Ready session that became Ready at `startedMs` (default: a full interval before T0). */
async function session(principal: string, startedMs = T0 - INTERVAL): Promise<SessionObject> {
  const name = await sessionFor(ns, principal, {}, readyAt(startedMs));
  return client.resource(CI.resource).get(name, { namespace: ns });
}

async function recorded(obj: SessionObject): Promise<number> {
  const fresh = await client.resource(CI.resource).get(obj.metadata.name ?? "", { namespace: ns });
  return Date.parse(fresh.status?.lastActivityTime ?? "");
}

beforeAll(async () => {
  await installSessionCrds();
  ns = await cluster.createNamespace("activity");
  const { tls } = config;
  proxy = startFaultProxy({
    upstream: cluster.server,
    tls: { ca: tls.ca ?? "", cert: tls.cert ?? "", key: tls.key ?? "" },
  });
  client = createKubeClient(
    { ...config, server: proxy.url, tls: { insecureSkipVerify: false } },
    { qps: 0, userAgent: "activity-recorder-test" },
  );
}, 60_000);

afterAll(async () => {
  await proxy?.stop();
  await kubectl(["delete", "ns", ns, "--wait=false"]);
}, 30_000);

describe("activity recorder", () => {
  test("a busy session costs one status write per interval, however many reports arrive", async () => {
    let now = T0;
    const recorder = createActivityRecorder({ client, intervalMs: INTERVAL, now: () => now });
    const obj = await session("paul");
    const signal = AbortSignal.timeout(20_000);
    const before = patches().length;
    expect(await recorder.record(CI, obj, { lastActivityMs: now, inFlight: 1 }, signal)).toBe(true);
    // 199 more reports over the next 9.95 s (a gateway reporting every 50 ms): no write.
    for (let i = 1; i < 200; i++) {
      now = T0 + i * 50;
      expect(await recorder.record(CI, obj, { lastActivityMs: now, inFlight: 1 }, signal)).toBe(false);
    }
    expect(patches().length - before).toBe(1);
    expect(await recorded(obj)).toBe(T0);
    // A full interval after the first write, the next report writes again, stamped with the clock's time.
    now = T0 + INTERVAL;
    expect(await recorder.record(CI, obj, { lastActivityMs: T0, inFlight: 1 }, signal)).toBe(true);
    expect(patches().length - before).toBe(2);
    expect(await recorded(obj)).toBe(T0 + INTERVAL);
  });

  test("an idle session's old activity is not rewritten; sessions are throttled independently", async () => {
    let now = T0 + 60_000;
    const recorder = createActivityRecorder({ client, intervalMs: INTERVAL, now: () => now });
    const a = await session("quinn");
    const b = await session("quinn");
    const signal = AbortSignal.timeout(20_000);
    const before = patches().length;
    expect(await recorder.record(CI, a, { lastActivityMs: T0 + 55_000, inFlight: 0 }, signal)).toBe(true);
    expect(await recorder.record(CI, b, { lastActivityMs: T0 + 55_000, inFlight: 0 }, signal)).toBe(true);
    expect(patches().length - before).toBe(2);
    expect(await recorded(a)).toBe(T0 + 55_000);
    // Later, nothing new happened: the same last-activity time is reported again. Not worth a write.
    now += INTERVAL * 3;
    const fresh = await client.resource(CI.resource).get(a.metadata.name ?? "", { namespace: ns });
    expect(await recorder.record(CI, fresh, { lastActivityMs: T0 + 55_000, inFlight: 0 }, signal)).toBe(
      false,
    );
    expect(patches().length - before).toBe(2);
  });

  test("activity within an interval of becoming Ready is no write: GC counts from startTime", async () => {
    let now = T0 + 2_000;
    const recorder = createActivityRecorder({ client, intervalMs: INTERVAL, now: () => now });
    const obj = await session("sam", T0);
    const signal = AbortSignal.timeout(20_000);
    const before = patches().length;
    expect(await recorder.record(CI, obj, { lastActivityMs: now, inFlight: 1 }, signal)).toBe(false);
    expect(await recorder.record(CI, obj, { lastActivityMs: now, inFlight: 0 }, signal)).toBe(false);
    expect(patches().length - before).toBe(0);
    // A full interval after it became Ready, activity is worth recording again.
    now = T0 + INTERVAL;
    expect(await recorder.record(CI, obj, { lastActivityMs: now, inFlight: 1 }, signal)).toBe(true);
    expect(await recorded(obj)).toBe(T0 + INTERVAL);
  });

  test("a report for a session deleted meanwhile is no write and no error", async () => {
    const recorder = createActivityRecorder({ client, intervalMs: INTERVAL, now: () => T0 });
    const obj = await session("ruth");
    await kubectl(["-n", ns, "delete", "codeinterpreter", obj.metadata.name ?? ""]);
    const signal = AbortSignal.timeout(20_000);
    expect(await recorder.record(CI, obj, { lastActivityMs: T0, inFlight: 1 }, signal)).toBe(false);
  });
});
