/**
 * Controllers resync what they own: a child deleted out from under its owner comes back, owned as before.
 * (A pod deleted under a sandbox is covered in sandbox.test.ts; here the session's claim and a pool's
 * warm sandbox.)
 */
import { describe, expect, test } from "bun:test";
import type { CodeInterpreter } from "../../api/code-interpreter";
import { CODE_INTERPRETERS, SANDBOX_CLAIMS, SANDBOX_POOLS, SANDBOXES } from "../../api/resource-types";
import type { Sandbox } from "../../api/sandbox";
import { controllerOf } from "./owner-refs";
import { API, adminClient, apply, eventually, pool, useControllers } from "./testing/controller-fixture";

const env = useControllers("ctl-resync");
const client = adminClient();
const claims = client.resource(SANDBOX_CLAIMS);
const sandboxes = client.resource(SANDBOXES);
const pools = client.resource(SANDBOX_POOLS);

describe("deleted children are recreated", () => {
  test("a waiting session's deleted claim is recreated, owned by the session", async () => {
    await apply(pool(env.ns, "empty", 0));
    const session = {
      apiVersion: API,
      kind: "CodeInterpreter",
      metadata: { name: "waiting", namespace: env.ns },
      spec: { provisioning: { mode: "PoolRequired", poolRef: { name: "empty" } } },
    } as unknown as CodeInterpreter;
    await client.resource(CODE_INTERPRETERS).create(session, { namespace: env.ns });
    const first = await eventually("the session's claim", () =>
      claims.get("waiting", { namespace: env.ns }).catch(() => undefined),
    );
    await claims.delete("waiting", { namespace: env.ns });
    const second = await eventually("a new claim", async () => {
      const c = await claims.get("waiting", { namespace: env.ns }).catch(() => undefined);
      return c && c.metadata.uid !== first.metadata.uid && !c.metadata.deletionTimestamp ? c : undefined;
    });
    expect(controllerOf(second)).toMatchObject({ kind: "CodeInterpreter", name: "waiting" });
    expect(second.spec).toMatchObject({ poolRef: { name: "empty" }, mode: "PoolRequired" });
  }, 60_000);

  test("a pool's deleted warm sandbox is replaced, and the pool holds exactly its replicas again", async () => {
    await apply(pool(env.ns, "steady", 2));
    const members = async () =>
      (await sandboxes.list({ namespace: env.ns })).items.filter(
        (s: Sandbox) => controllerOf(s)?.name === "steady" && !s.metadata.deletionTimestamp,
      );
    const ready = async () => {
      const p = await pools.get("steady", { namespace: env.ns });
      const m = await members();
      return p.status?.availableReplicas === 2 && m.length === 2 ? m : undefined;
    };
    const before = await eventually("pool steady ready", ready, 60_000);
    const victim = before[0]?.metadata.name ?? "";
    await sandboxes.delete(victim, { namespace: env.ns });
    const after = await eventually(
      "a replacement",
      async () => {
        const m = await ready();
        return m && !m.some((s) => s.metadata.name === victim) ? m : undefined;
      },
      60_000,
    );
    expect(after).toHaveLength(2);
    expect(after.map((s) => s.metadata.name)).toContain(before[1]?.metadata.name ?? "");
  }, 90_000);
});
