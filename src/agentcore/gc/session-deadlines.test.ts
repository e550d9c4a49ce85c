/**
 * GC deadlines beyond idleness, on the real apiserver: maxSessionDuration ends even a busy session, a
 * deadline that passed while no replica led is met by the next leader at once, and failed or never-Ready
 * sessions go after the retention, each with an Event saying why.
 *
 * The CRDs put maxSessionDuration at 1 m or more (a sane floor for users), so the first test runs
 * agentcore with its clock moved ahead instead of waiting a minute: GC compares the apiserver's
 * creationTimestamp with agentcore's injected `now`, exactly as in production, and the activity it
 * records is stamped by that same clock. Only the wait is skipped.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { AgentCoreService, SessionActivitySchema } from "../../gen/agentland/agentcore/v1/agentcore_pb";
import type { RunningAgentcore } from "../start-agentcore";
import {
  cluster,
  codeInterpreterNames,
  eventually,
  installSessionCrds,
  kubectl,
  sessionFor,
  startTestAgentcore,
} from "../testing/agentcore-fixture";

let ns = "";
const running = new Set<RunningAgentcore>();
const iso = (ms: number) => new Date(ms).toISOString();
const readyStatus = (startMs: number, extra: Record<string, unknown> = {}) => ({
  phase: "Ready",
  startTime: iso(startMs),
  conditions: [
    { type: "Ready", status: "True", reason: "SandboxReady", message: "", lastTransitionTime: iso(startMs) },
  ],
  ...extra,
});

async function start(extra: string[] = [], now?: () => number): Promise<RunningAgentcore> {
  const a = await startTestAgentcore(ns, extra, now ? { now } : {});
  running.add(a);
  await eventually("agentcore to lead", async () => (a.isLeader() ? true : undefined), 10_000);
  return a;
}

async function stop(a: RunningAgentcore): Promise<void> {
  running.delete(a);
  await a.stop(2_000);
}

const exists = async (name: string) => (await codeInterpreterNames(ns)).includes(name);
const deletedAt = (name: string, timeoutMs: number) =>
  eventually(`${name} to be deleted`, async () => ((await exists(name)) ? undefined : Date.now()), timeoutMs);

async function eventReasons(name: string): Promise<string> {
  return kubectl([
    "-n",
    ns,
    "get",
    "events",
    `--field-selector=involvedObject.name=${name}`,
    "-o",
    "jsonpath={.items[*].reason}",
  ]);
}

beforeAll(async () => {
  await installSessionCrds();
  ns = await cluster.createNamespace("gc-deadlines");
}, 60_000);

afterAll(async () => {
  await Promise.all([...running].map((a) => a.stop(2_000)));
  await kubectl(["delete", "ns", ns, "--wait=false"]);
}, 30_000);

describe("session GC deadlines", () => {
  test("a session kept busy past its idle timeout is deleted within 2 s of its maxSessionDuration", async () => {
    const AHEAD = 52_000; // agentcore's clock runs this far ahead of the apiserver's
    const agentcore = await start([], () => Date.now() + AHEAD);
    const rpc = createClient(AgentCoreService, createGrpcTransport({ baseUrl: agentcore.url }));
    // Idle for 28 s already by agentcore's clock: with sessionTimeout 30s it would go idle in 2 s.
    const name = await sessionFor(
      ns,
      "liam",
      { sessionTimeout: "30s", maxSessionDuration: "1m" },
      readyStatus(Date.now() + AHEAD - 28_000),
    );
    const created = Date.parse(
      await kubectl([
        "-n",
        ns,
        "get",
        "codeinterpreter",
        name,
        "-o",
        "jsonpath={.metadata.creationTimestamp}",
      ]),
    );
    const idleDeadline = Date.now() + 2_000;
    const maxDeadline = created + 60_000 - AHEAD; // in real time
    expect(maxDeadline - idleDeadline).toBeGreaterThan(3_000);

    // A gateway reports one run in flight every 500 ms until the session is gone.
    let gone: number | undefined;
    let aliveAfterIdle = false;
    while (gone === undefined && Date.now() < maxDeadline + 10_000) {
      const { unknownIds } = await rpc.recordActivity({
        reporter: "gw-test",
        activities: [
          create(SessionActivitySchema, {
            id: name,
            namespace: ns,
            lastActivityAt: timestampFromMs(Date.now() + AHEAD),
            inFlight: 1,
          }),
        ],
      });
      const there = unknownIds.length === 0 && (await exists(name));
      if (there && Date.now() > idleDeadline + 2_000) aliveAfterIdle = true;
      if (!there) gone = await deletedAt(name, 5_000);
      else await Bun.sleep(500);
    }
    expect(aliveAfterIdle).toBe(true);
    expect(gone).toBeDefined();
    expect(gone ?? 0).toBeGreaterThanOrEqual(maxDeadline - 500);
    expect((gone ?? 0) - maxDeadline).toBeLessThan(2_000);
    expect(await eventReasons(name)).toContain("MaxSessionDuration");
    await stop(agentcore);
  }, 45_000);

  test("a deadline that passed while no replica led is met as soon as a new leader starts", async () => {
    const idleDeadline = Date.now() + 1_000;
    const name = await sessionFor(ns, "mia", { sessionTimeout: "30s" }, readyStatus(idleDeadline - 30_000));
    await Bun.sleep(idleDeadline + 1_500 - Date.now());
    expect(await exists(name)).toBe(true); // nobody was leading: nothing collected it
    const startedAt = Date.now();
    const agentcore = await start();
    const gone = await deletedAt(name, 10_000);
    expect(gone - startedAt).toBeLessThan(5_000);
    expect(await eventReasons(name)).toContain("IdleTimeout");
    await stop(agentcore);
  }, 30_000);

  test("failed and never-Ready sessions are deleted after the retention, with an Event saying why", async () => {
    // create-timeout 2 s (fixture) + retention 3 s: a never-Ready session goes 5 s after its creation.
    const agentcore = await start(["--failed-session-retention=3s"]);
    const failedAt = Date.now();
    const failed = await sessionFor(
      ns,
      "noah",
      {},
      {
        phase: "Failed",
        conditions: [
          {
            type: "Ready",
            status: "False",
            reason: "ErrImageNeverPull",
            message: "image not present",
            lastTransitionTime: iso(failedAt),
          },
        ],
      },
    );
    const pending = await sessionFor(ns, "noah", {});
    const pendingCreated = Date.parse(
      await kubectl([
        "-n",
        ns,
        "get",
        "codeinterpreter",
        pending,
        "-o",
        "jsonpath={.metadata.creationTimestamp}",
      ]),
    );
    const [failedGone, pendingGone] = await Promise.all([
      deletedAt(failed, 15_000),
      deletedAt(pending, 15_000),
    ]);
    expect(failedGone).toBeGreaterThanOrEqual(failedAt + 3_000 - 500);
    expect(failedGone - (failedAt + 3_000)).toBeLessThan(2_000);
    expect(pendingGone).toBeGreaterThanOrEqual(pendingCreated + 5_000 - 500);
    expect(pendingGone - (pendingCreated + 5_000)).toBeLessThan(2_000);
    expect(await eventReasons(failed)).toContain("Failed");
    expect(await eventReasons(pending)).toContain("NeverReady");
    await stop(agentcore);
  }, 30_000);
});
