import { describe, expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { type Session, SessionSchema } from "../../gen/agentland/agentcore/v1/agentcore_pb";
import { GatewayError } from "../gateway-error";
import { createSessionQuota } from "./session-quota";

/** AgentCore's view of one principal's sessions, with the order of calls it saw. */
function world(initial: number) {
  const sessions: Session[] = Array.from({ length: initial }, (_, i) =>
    create(SessionSchema, { id: `s-${i}` }),
  );
  const calls: string[] = [];
  let next = initial;
  const quota = createSessionQuota({
    maxPerPrincipal: 3,
    maxPrincipals: 10,
    countable: async () => {
      calls.push("count");
      return [...sessions];
    },
    discard: async (_principal, session) => {
      calls.push(`discard ${session.id}`);
      sessions.splice(sessions.indexOf(session), 1);
    },
  });
  const make = async () => {
    calls.push("create");
    const s = create(SessionSchema, { id: `s-${next++}` });
    sessions.push(s);
    return s;
  };
  return { sessions, calls, quota, make };
}

const signal = new AbortController().signal;

describe("session quota", () => {
  test("a principal not seen yet is counted before anything is created", async () => {
    const w = world(0);
    await w.quota.admit("p", signal, w.make);
    expect(w.calls).toEqual(["count", "create"]);
  });

  test("at the limit nothing is created and the answer is quota_exceeded", async () => {
    const w = world(0);
    for (let i = 0; i < 3; i++) await w.quota.admit("p", signal, w.make);
    w.calls.length = 0;
    const refused = await w.quota.admit("p", signal, w.make).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(GatewayError);
    expect((refused as GatewayError).code).toBe("quota_exceeded");
    expect(w.calls).toEqual(["count"]);
    expect(w.sessions).toHaveLength(3);
  });

  test("well below the limit the count runs alongside the creation and still refuses an overshoot", async () => {
    const w = world(0);
    await w.quota.admit("p", signal, w.make); // now known: 1 of 3
    // Two sessions appear that this replica did not make (another replica, another client).
    w.sessions.push(
      create(SessionSchema, { id: "elsewhere-1" }),
      create(SessionSchema, { id: "elsewhere-2" }),
    );
    w.calls.length = 0;
    const refused = await w.quota.admit("p", signal, w.make).catch((err: unknown) => err);
    expect((refused as GatewayError).code).toBe("quota_exceeded");
    expect(w.calls).toEqual(["count", "create", "discard s-1"]);
    expect(w.sessions.map((s) => s.id)).toEqual(["s-0", "elsewhere-1", "elsewhere-2"]);
  });

  test("a session deleted here frees its place in the remembered count", async () => {
    const w = world(0);
    for (let i = 0; i < 3; i++) await w.quota.admit("p", signal, w.make);
    w.sessions.splice(0, 2);
    w.quota.released("p");
    w.quota.released("p");
    w.calls.length = 0;
    await w.quota.admit("p", signal, w.make);
    expect(w.calls).toEqual(["count", "create"]);
  });
});
