/**
 * AgentCore's RPC service and GC on the real local control plane. These tests exercise agentcore's own
 * contract (validation, principal isolation, cleanup, protocols, activity, deadlines); sessions that must
 * become Ready through the controllers and the node agent are covered end to end in e2e/.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { type Client, Code, ConnectError, createClient } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { createConnectTransport as createWebConnectTransport } from "@connectrpc/connect-web";
import {
  AgentCoreService,
  ProvisioningMode,
  SessionActivitySchema,
} from "../gen/agentland/agentcore/v1/agentcore_pb";
import type { RunningAgentcore } from "./start-agentcore";
import * as fixture from "./testing/agentcore-fixture";
import { cluster, eventually, kubectl } from "./testing/agentcore-fixture";

let ns = "";
let agentcore: RunningAgentcore;
let rpc: Client<typeof AgentCoreService>;
const sessionFor = (principal: string, spec: Record<string, unknown> = {}) =>
  fixture.sessionFor(ns, principal, spec);
const codeInterpreterNames = () => fixture.codeInterpreterNames(ns);

async function codeOf(p: Promise<unknown>): Promise<Code | "ok"> {
  try {
    await p;
    return "ok";
  } catch (err) {
    return ConnectError.from(err).code;
  }
}

beforeAll(async () => {
  await fixture.installSessionCrds();
  ns = await cluster.createNamespace("agentcore");
  agentcore = await fixture.startTestAgentcore(ns);
  rpc = createClient(AgentCoreService, createGrpcTransport({ baseUrl: agentcore.url }));
  await eventually("the session cache to sync", async () => {
    try {
      await rpc.listSessions({ principal: "warmup" });
      return true;
    } catch {
      return undefined;
    }
  });
}, 60_000);

afterAll(async () => {
  await agentcore?.stop(2_000);
}, 30_000);

describe("AgentCore RPC", () => {
  test("an unknown runtime is NotFound and nothing is created", async () => {
    const call = rpc.createAgentSession({ principal: "alice", runtimeName: "nope", runtimeNamespace: ns });
    expect(await codeOf(call)).toBe(Code.NotFound);
    const out = await kubectl(["-n", ns, "get", "agentsessions", "-o", "name"]);
    expect(out.trim()).toBe("");
  });

  test("a namespace outside the allow-list is PermissionDenied and nothing is created", async () => {
    const before = await codeInterpreterNames();
    const call = rpc.createCodeInterpreter({ principal: "alice", options: { namespace: "kube-system" } });
    expect(await codeOf(call)).toBe(Code.PermissionDenied);
    expect(await codeInterpreterNames()).toEqual(before);
  });

  test("an out-of-bounds timeout is InvalidArgument naming the field, and nothing is created", async () => {
    const before = await codeInterpreterNames();
    try {
      await rpc.createCodeInterpreter({ principal: "alice", options: { sessionTimeoutSeconds: 5 } });
      throw new Error("expected a failure");
    } catch (err) {
      const e = ConnectError.from(err);
      expect(e.code).toBe(Code.InvalidArgument);
      expect(e.rawMessage).toContain("sessionTimeout");
    }
    expect(await codeInterpreterNames()).toEqual(before);
  });

  test("a session that cannot become Ready in time fails clearly and leaves nothing behind", async () => {
    const before = await codeInterpreterNames();
    const call = rpc.createCodeInterpreter({
      principal: "alice",
      options: { provisioning: { mode: ProvisioningMode.POOL_REQUIRED, poolRef: "no-such-pool" } },
    });
    expect([Code.DeadlineExceeded, Code.ResourceExhausted]).toContain((await codeOf(call)) as Code);
    await eventually("the failed session to be deleted", async () =>
      JSON.stringify(await codeInterpreterNames()) === JSON.stringify(before) ? true : undefined,
    );
  });

  test("a caller canceling mid-create leaves nothing behind", async () => {
    const before = await codeInterpreterNames();
    const abort = new AbortController();
    const call = rpc.createCodeInterpreter({ principal: "alice" }, { signal: abort.signal });
    await eventually("the session CR to appear", async () =>
      (await codeInterpreterNames()).length > before.length ? true : undefined,
    );
    abort.abort();
    expect(await codeOf(call)).toBe(Code.Canceled);
    await eventually("the canceled session to be deleted", async () =>
      JSON.stringify(await codeInterpreterNames()) === JSON.stringify(before) ? true : undefined,
    );
  });

  test("a session is visible only to its principal: Get, List and Delete", async () => {
    const mine = await sessionFor("bob");
    await eventually("bob's session in the cache", async () =>
      (await codeOf(rpc.getSession({ principal: "bob", id: mine }))) === "ok" ? true : undefined,
    );
    const got = await rpc.getSession({ principal: "bob", id: mine, namespace: ns });
    expect(got.session?.id).toBe(mine);
    expect(got.session?.principal).toBe("bob");
    expect(await codeOf(rpc.getSession({ principal: "mallory", id: mine }))).toBe(Code.NotFound);
    expect(await codeOf(rpc.deleteSession({ principal: "mallory", id: mine }))).toBe(Code.NotFound);
    expect((await rpc.listSessions({ principal: "mallory" })).sessions).toHaveLength(0);
    expect((await rpc.listSessions({ principal: "bob" })).sessions.map((s) => s.id)).toContain(mine);
    expect(await codeOf(rpc.getSession({ principal: "bob", id: "ci-../../etc" }))).toBe(Code.NotFound);
    await rpc.deleteSession({ principal: "bob", id: mine });
    await eventually("the session to be gone", async () =>
      (await codeInterpreterNames()).includes(mine) ? undefined : true,
    );
  });

  test("the same call works over gRPC, gRPC-Web, Connect binary and JSON, on both ports over HTTP/2 and HTTP/1.1", async () => {
    const id = await sessionFor("carol");
    const transports = [
      createWebConnectTransport({ baseUrl: agentcore.httpUrl }),
      // The gateway's path: binary Connect over HTTP/2 (prior knowledge) to the HTTP port.
      createConnectTransport({ baseUrl: agentcore.httpUrl, httpVersion: "2", useBinaryFormat: true }),
      createGrpcWebTransport({ baseUrl: agentcore.httpUrl, httpVersion: "2" }),
      createGrpcTransport({ baseUrl: agentcore.url }),
      createGrpcWebTransport({ baseUrl: agentcore.url, httpVersion: "2" }),
      createGrpcWebTransport({ baseUrl: agentcore.httpUrl, httpVersion: "1.1" }),
      createConnectTransport({ baseUrl: agentcore.url, httpVersion: "2", useBinaryFormat: true }),
      createConnectTransport({ baseUrl: agentcore.url, httpVersion: "2", useBinaryFormat: false }),
    ];
    for (const transport of transports) {
      const c = createClient(AgentCoreService, transport);
      const r = await eventually("carol's session", async () => {
        try {
          return await c.getSession({ principal: "carol", id });
        } catch {
          return undefined;
        }
      });
      expect(r.session?.id).toBe(id);
    }
  });

  test("activity reports write lastActivityTime at a bounded rate and name unknown sessions", async () => {
    const id = await sessionFor("dave");
    await eventually("dave's session", async () =>
      (await codeOf(rpc.getSession({ principal: "dave", id }))) === "ok" ? true : undefined,
    );
    const report = (inFlight: number) =>
      rpc.recordActivity({
        reporter: "test",
        activities: [
          create(SessionActivitySchema, { id, namespace: ns, lastActivityAt: timestampNow(), inFlight }),
          create(SessionActivitySchema, { id: "ci-aaaaaaaaaaaaaaaaaaaaa", namespace: ns, inFlight: 0 }),
        ],
      });
    const first = await report(1);
    expect(first.unknownIds).toEqual(["ci-aaaaaaaaaaaaaaaaaaaaa"]);
    const written = await eventually("lastActivityTime", async () => {
      const t = await kubectl([
        "-n",
        ns,
        "get",
        "codeinterpreter",
        id,
        "-o",
        "jsonpath={.status.lastActivityTime}",
      ]);
      return t.trim() || undefined;
    });
    // A burst of reports within one interval makes no further write.
    for (let i = 0; i < 5; i++) await report(1);
    const rv1 = await kubectl([
      "-n",
      ns,
      "get",
      "codeinterpreter",
      id,
      "-o",
      "jsonpath={.metadata.resourceVersion}",
    ]);
    await Bun.sleep(300);
    const rv2 = await kubectl([
      "-n",
      ns,
      "get",
      "codeinterpreter",
      id,
      "-o",
      "jsonpath={.metadata.resourceVersion}",
    ]);
    expect(rv2).toBe(rv1);
    expect(Date.parse(written)).toBeGreaterThan(Date.now() - 10_000);
  });
});
