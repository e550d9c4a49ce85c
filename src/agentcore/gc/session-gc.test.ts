/**
 * Garbage collection on the real apiserver: each session is deleted within 2 s of the deadline its own
 * fields give; reported in-flight work keeps a session alive past its idle timeout; a follower answers
 * RPCs while the leader collects, and takes over collection (with every deadline) when the leader goes.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { AgentCoreService, SessionActivitySchema } from "../../gen/agentland/agentcore/v1/agentcore_pb";
import type { RunningAgentcore } from "../start-agentcore";
import {
  cluster,
  codeInterpreterNames,
  eventually,
  installSessionCrds,
  sessionFor,
  startTestAgentcore,
} from "../testing/agentcore-fixture";

// Each test waits for real deadlines (seconds) on the real apiserver.
setDefaultTimeout(30_000);

let ns = "";
const replicas: RunningAgentcore[] = [];

const iso = (ms: number) => new Date(ms).toISOString();
const readyStatus = (startMs: number) => ({
  phase: "Ready",
  startTime: iso(startMs),
  conditions: [
    { type: "Ready", status: "True", reason: "SandboxReady", message: "", lastTransitionTime: iso(startMs) },
  ],
});

async function deletedAt(name: string, timeoutMs: number): Promise<number> {
  return eventually(
    `${name} to be deleted`,
    async () => ((await codeInterpreterNames(ns)).includes(name) ? undefined : Date.now()),
    timeoutMs,
  );
}

beforeAll(async () => {
  await installSessionCrds();
  ns = await cluster.createNamespace("gc");
  replicas.push(await startTestAgentcore(ns), await startTestAgentcore(ns));
  await eventually("a leader", async () => (replicas.some((r) => r.isLeader()) ? true : undefined));
}, 60_000);

afterAll(async () => {
  await Promise.all(replicas.map((r) => r.stop(2_000)));
}, 30_000);

describe("session GC", () => {
  test("an idle session is deleted within 2 s of its sessionTimeout, with an Event saying why", async () => {
    const deadline = Date.now() + 5_000; // room for kubectl on a loaded machine before the deadline
    const name = await sessionFor(ns, "erin", { sessionTimeout: "30s" }, readyStatus(deadline - 30_000));
    const gone = await deletedAt(name, 10_000);
    expect(gone).toBeGreaterThanOrEqual(deadline - 500);
    expect(gone - deadline).toBeLessThan(2_000);
    const events = await cluster.kubectl([
      "-n",
      ns,
      "get",
      "events",
      `--field-selector=involvedObject.name=${name}`,
    ]);
    expect(events.stdout).toContain("IdleTimeout");
  });

  test("a session with reported in-flight work survives past its idle timeout", async () => {
    // Margin for a loaded machine: creating the CR and the follower's watch seeing it take a while, and
    // the first report must reach a replica that knows the session before the idle deadline.
    const idleDeadline = Date.now() + 5_000;
    const name = await sessionFor(ns, "frank", { sessionTimeout: "30s" }, readyStatus(idleDeadline - 30_000));
    const follower = replicas.find((r) => !r.isLeader()) ?? replicas[0];
    const rpc = createClient(AgentCoreService, createGrpcTransport({ baseUrl: follower?.url ?? "" }));
    let acceptedBeforeDeadline = false;
    const until = idleDeadline + 3_000;
    while (Date.now() < until) {
      const { unknownIds } = await rpc.recordActivity({
        reporter: "gw-1",
        activities: [
          create(SessionActivitySchema, {
            id: name,
            namespace: ns,
            lastActivityAt: timestampNow(),
            inFlight: 1,
          }),
        ],
      });
      if (unknownIds.length === 0 && Date.now() < idleDeadline - 1_000) acceptedBeforeDeadline = true;
      await Bun.sleep(500);
    }
    expect(acceptedBeforeDeadline).toBe(true);
    expect(await codeInterpreterNames(ns)).toContain(name);
    await cluster.kubectl(["-n", ns, "delete", "codeinterpreter", name, "--wait=false"]);
  });

  test("the follower answers RPCs, and after the leader stops it collects with every deadline intact", async () => {
    const leader = replicas.find((r) => r.isLeader());
    const follower = replicas.find((r) => !r.isLeader());
    if (!leader || !follower) throw new Error("expected one leader and one follower");
    const deadline = Date.now() + 6_000;
    const name = await sessionFor(ns, "grace", { sessionTimeout: "30s" }, readyStatus(deadline - 30_000));
    const rpc = createClient(AgentCoreService, createGrpcTransport({ baseUrl: follower.url }));
    const got = await eventually("the follower to see the session", async () => {
      try {
        return await rpc.getSession({ principal: "grace", id: name });
      } catch {
        return undefined;
      }
    });
    expect(got.session?.id).toBe(name);
    await leader.stop(1_000); // releases the Lease: the follower takes over at its next retry
    replicas.splice(replicas.indexOf(leader), 1);
    await eventually("the follower to lead", async () => (follower.isLeader() ? true : undefined), 5_000);
    const gone = await deletedAt(name, 15_000);
    expect(gone - deadline).toBeLessThan(2_000);
  });
});
