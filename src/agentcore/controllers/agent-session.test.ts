import { describe, expect, test } from "bun:test";
import type { AgentRuntime } from "../../api/agent-runtime";
import type { AgentSession } from "../../api/agent-session";
import {
  AGENT_RUNTIMES,
  AGENT_SESSIONS,
  SANDBOX_CLAIMS,
  SANDBOX_POOLS,
  SANDBOXES,
} from "../../api/resource-types";
import { API, adminClient, eventually, template, useControllers } from "./testing/controller-fixture";

const env = useControllers("ctl-ags");
const client = adminClient();
const sessions = client.resource(AGENT_SESSIONS);
const runtimes = client.resource(AGENT_RUNTIMES);
const pools = client.resource(SANDBOX_POOLS);
const claims = client.resource(SANDBOX_CLAIMS);
const sandboxes = client.resource(SANDBOXES);

const runtime = (name: string, spec: Record<string, unknown>) =>
  ({
    apiVersion: API,
    kind: "AgentRuntime",
    metadata: { name, namespace: env.ns },
    spec,
  }) as unknown as AgentRuntime;
const session = (name: string, runtimeName: string, spec: Record<string, unknown> = {}) =>
  ({
    apiVersion: API,
    kind: "AgentSession",
    metadata: { name, namespace: env.ns },
    spec: { runtimeRef: { name: runtimeName }, ...spec },
  }) as unknown as AgentSession;

const readyOf = (s: AgentSession | AgentRuntime) =>
  s.status?.conditions?.find((c) => c.type === "Ready" || c.type === "Accepted");

async function sessionWhere(
  name: string,
  what: string,
  ok: (s: AgentSession) => boolean,
  timeoutMs = 60_000,
) {
  return eventually(
    `${name}: ${what}`,
    async () => {
      const s = await sessions.get(name, { namespace: env.ns });
      return ok(s) ? s : undefined;
    },
    timeoutMs,
  );
}

describe("AgentSession and AgentRuntime controllers", () => {
  test("a session whose runtime is missing waits with RuntimeNotFound and recovers when the runtime appears", async () => {
    await sessions.create(session("early", "late-runtime"), { namespace: env.ns });
    const waiting = await sessionWhere(
      "early",
      "RuntimeNotFound",
      (s) => readyOf(s)?.reason === "RuntimeNotFound",
    );
    expect(waiting.status?.phase).toBe("Pending");
    expect(readyOf(waiting)?.status).toBe("False");
    await runtimes.create(
      runtime("late-runtime", { sandboxTemplate: template(), provisioning: { mode: "Direct" } }),
      { namespace: env.ns },
    );
    const ready = await sessionWhere("early", "Ready", (s) => s.status?.phase === "Ready");
    expect(ready.status?.sandboxName).toBe("early");
    const sbx = await sandboxes.get("early", { namespace: env.ns });
    expect(sbx.metadata.labels?.["agentland.fl0rencess720.app/runtime"]).toBe("late-runtime");
    expect(sbx.metadata.labels?.["agentland.fl0rencess720.app/session-kind"]).toBe("AgentSession");
  }, 90_000);

  test("a runtime is Accepted with its template hash; timeouts default from it", async () => {
    await runtimes.create(
      runtime("timed", {
        sandboxTemplate: template(),
        maxSessionDuration: "30m",
        provisioning: { mode: "Direct" },
      }),
      {
        namespace: env.ns,
      },
    );
    const r = await eventually("accepted", async () => {
      const x = await runtimes.get("timed", { namespace: env.ns });
      return readyOf(x)?.status === "True" ? x : undefined;
    });
    expect(r.status?.templateHash).toMatch(/^[a-z0-9]{16}$/);
    await sessions.create(session("timed-session", "timed"), { namespace: env.ns });
    const s = await sessionWhere("timed-session", "Ready", (x) => x.status?.phase === "Ready");
    const created = Date.parse(s.metadata.creationTimestamp ?? "");
    expect(Date.parse(s.status?.expiresAt ?? "") - created).toBe(30 * 60 * 1000);
  }, 90_000);

  test("a runtime with a warm pool pre-warms sandboxes and its sessions start on one", async () => {
    await runtimes.create(runtime("warm", { sandboxTemplate: template(), warmPool: { replicas: 2 } }), {
      namespace: env.ns,
    });
    const pool = await eventually(
      "runtime pool ready",
      async () => {
        const p = await pools.get("warm", { namespace: env.ns }).catch(() => undefined);
        return p?.status?.availableReplicas === 2 ? p : undefined;
      },
      60_000,
    );
    expect(pool.metadata.ownerReferences?.[0]).toMatchObject({ kind: "AgentRuntime", name: "warm" });
    expect((await runtimes.get("warm", { namespace: env.ns })).status?.poolName).toBe("warm");
    await sessions.create(session("warm-session", "warm"), { namespace: env.ns });
    const s = await sessionWhere("warm-session", "Ready", (x) => x.status?.phase === "Ready");
    // The session mirrors its pre-adopted sandbox before the claim's status says how it was bound.
    const bound = await eventually("the claim's Bound condition", async () => {
      const claim = await claims.get("warm-session", { namespace: env.ns });
      return claim.status?.conditions?.find((c) => c.type === "Bound" && c.status === "True");
    });
    expect(bound.reason).toBe("Adopted");
    expect(s.status?.sandboxName).toStartWith("warm-");

    // The runtime's warmPool is the source of truth for the pool's size, and removing it removes the pool.
    await runtimes.patch("warm", {
      type: "merge",
      patch: { spec: { warmPool: { replicas: 1 } } },
      namespace: env.ns,
    });
    await eventually("pool resized", async () =>
      (await pools.get("warm", { namespace: env.ns })).spec.replicas === 1 ? true : undefined,
    );
    await runtimes.patch("warm", {
      type: "json",
      patch: [{ op: "remove", path: "/spec/warmPool" }],
      namespace: env.ns,
    });
    await eventually("pool removed", async () =>
      (await pools.get("warm", { namespace: env.ns }).catch(() => undefined)) ? undefined : true,
    );
    // The session's claimed sandbox belongs to its claim and survives.
    const held = await sandboxes.get(s.status?.sandboxName ?? "", { namespace: env.ns });
    expect(held.metadata.deletionTimestamp).toBeUndefined();
  }, 120_000);
});
