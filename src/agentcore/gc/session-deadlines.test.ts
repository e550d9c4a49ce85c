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
import { ANNOTATIONS } from "../../api/reserved-keys";
import { AgentCoreService, SessionActivitySchema } from "../../gen/agentland/agentcore/v1/agentcore_pb";
import { createKubeClient } from "../../kube/kube-client";
import { loadKubeconfigFile } from "../../kube/kube-config";
import { principalHash } from "../sessions/principal";
import { newSessionId } from "../sessions/session-id";
import { CODE_INTERPRETER_KIND as CI, type SessionObject } from "../sessions/session-kinds";
import type { RunningAgentcore } from "../start-agentcore";
import {
  cluster,
  codeInterpreterNames,
  eventually,
  installSessionCrds,
  kubectl,
  startTestAgentcore,
} from "../testing/agentcore-fixture";

let ns = "";
const admin = createKubeClient(loadKubeconfigFile(cluster.kubeconfig), { qps: 0, userAgent: "gc-test" });
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

/** A CodeInterpreter as agentcore creates it, with `status` written through the subresource. */
async function session(principal: string, spec: Record<string, unknown>, status?: Record<string, unknown>) {
  const name = newSessionId("ci-");
  const api = admin.resource(CI.resource);
  const obj = await api.create(
    {
      apiVersion: "agentland.fl0rencess720.app/v1alpha1",
      kind: "CodeInterpreter",
      metadata: { name, namespace: ns, annotations: { [ANNOTATIONS.principal]: principalHash(principal) } },
      spec,
    } as unknown as SessionObject,
    { namespace: ns },
  );
  if (status) await api.patchStatus(name, { namespace: ns, type: "merge", patch: { status } });
  return { name, created: Date.parse(obj.metadata.creationTimestamp ?? "") };
}

/**
 * When each session's deletion reached a watch (Date.now() at the DELETED event): a timestamp that does
 * not depend on how often a test polls, so "within 2 s" measures GC, not the poller.
 */
const deletions = new Map<string, number>();
let stopWatch = () => {};
async function watchDeletions(): Promise<void> {
  const api = admin.resource(CI.resource);
  const { resourceVersion } = await api.list({ namespace: ns, limit: 1 });
  const stream = await api.watch({ namespace: ns, resourceVersion, timeoutSeconds: 600 });
  stopWatch = () => stream.close();
  void (async () => {
    for await (const e of stream) {
      if (e.type === "DELETED") deletions.set(e.object.metadata.name ?? "", Date.now());
    }
  })().catch(() => {});
}
const deletedAt = (name: string, timeoutMs: number) =>
  eventually(`${name} to be deleted`, async () => deletions.get(name), timeoutMs);

const exists = async (name: string) => (await codeInterpreterNames(ns)).includes(name);

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
  await watchDeletions();
}, 60_000);

afterAll(async () => {
  stopWatch();
  await Promise.all([...running].map((a) => a.stop(2_000)));
  await kubectl(["delete", "ns", ns, "--wait=false"]);
}, 30_000);

describe("session GC deadlines", () => {
  test("a session kept busy past its idle timeout is deleted within 2 s of its maxSessionDuration", async () => {
    const AHEAD = 48_000; // agentcore's clock runs this far ahead of the apiserver's
    const agentcore = await start([], () => Date.now() + AHEAD);
    try {
      const rpc = createClient(AgentCoreService, createGrpcTransport({ baseUrl: agentcore.url }));
      // Ready 24 s ago by agentcore's clock: with sessionTimeout 30s it goes idle 6 s from now.
      const idleDeadline = Date.now() + 6_000;
      const { name, created } = await session(
        "liam",
        { sessionTimeout: "30s", maxSessionDuration: "1m" },
        readyStatus(idleDeadline + AHEAD - 30_000),
      );
      const maxDeadline = created + 60_000 - AHEAD; // real time: about 12 s after creation
      expect(maxDeadline - idleDeadline).toBeGreaterThan(3_000);

      // A gateway reports one run in flight every 500 ms until the session is gone.
      let acceptedBeforeIdle = false;
      let aliveAfterIdle = false;
      let gone: number | undefined;
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
        const known = unknownIds.length === 0;
        if (known && Date.now() < idleDeadline - 1_000) acceptedBeforeIdle = true;
        if (known && Date.now() > idleDeadline + 2_000 && !deletions.has(name)) aliveAfterIdle = true;
        gone = deletions.get(name);
        if (gone === undefined) await Bun.sleep(500);
      }
      expect(acceptedBeforeIdle).toBe(true);
      expect(aliveAfterIdle).toBe(true);
      expect(gone).toBeDefined();
      expect(gone ?? 0).toBeGreaterThanOrEqual(maxDeadline - 500);
      expect((gone ?? 0) - maxDeadline).toBeLessThan(2_000);
      expect(await eventReasons(name)).toContain("MaxSessionDuration");
    } finally {
      await stop(agentcore);
    }
  }, 45_000);

  test("a deadline that passed while no replica led is met as soon as a new leader starts", async () => {
    const idleDeadline = Date.now() + 1_000;
    const { name } = await session("mia", { sessionTimeout: "30s" }, readyStatus(idleDeadline - 30_000));
    await Bun.sleep(Math.max(0, idleDeadline + 1_500 - Date.now()));
    expect(await exists(name)).toBe(true); // nobody was leading: nothing collected it
    const startedAt = Date.now();
    const agentcore = await start();
    try {
      const gone = await deletedAt(name, 10_000);
      expect(gone - startedAt).toBeLessThan(5_000);
      expect(await eventReasons(name)).toContain("IdleTimeout");
    } finally {
      await stop(agentcore);
    }
  }, 30_000);

  test("failed and never-Ready sessions are deleted after the retention, with an Event saying why", async () => {
    // create-timeout 2 s (fixture) + retention 5 s: a never-Ready session goes 7 s after its creation.
    const agentcore = await start(["--failed-session-retention=5s"]);
    try {
      const failedAt = Date.now();
      const ready = {
        type: "Ready",
        status: "False",
        reason: "ErrImageNeverPull",
        message: "image not present",
        lastTransitionTime: iso(failedAt),
      };
      const failed = await session("noah", {}, { phase: "Failed", conditions: [ready] });
      const pending = await session("noah", {});
      const [failedGone, pendingGone] = await Promise.all([
        deletedAt(failed.name, 15_000),
        deletedAt(pending.name, 15_000),
      ]);
      expect(failedGone).toBeGreaterThanOrEqual(failedAt + 5_000 - 500);
      expect(failedGone - (failedAt + 5_000)).toBeLessThan(2_000);
      expect(pendingGone).toBeGreaterThanOrEqual(pending.created + 7_000 - 500);
      expect(pendingGone - (pending.created + 7_000)).toBeLessThan(2_000);
      expect(await eventReasons(failed.name)).toContain("Failed");
      expect(await eventReasons(pending.name)).toContain("NeverReady");
    } finally {
      await stop(agentcore);
    }
  }, 30_000);
});
