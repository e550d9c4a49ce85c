import { describe, expect, test } from "bun:test";
import {
  AGENT_RUNTIMES,
  AGENT_SESSIONS,
  CODE_INTERPRETERS,
  SANDBOX_CLAIMS,
  SANDBOX_POOLS,
} from "../../api/resource-types";
import type { ControllerName } from "../manager/event-routing";
import {
  API,
  adminClient,
  apply,
  claim,
  eventually,
  pool,
  template,
  useControllers,
} from "./testing/controller-fixture";

const env = useControllers("ctl-idem", { recordRequests: true });
const client = adminClient();

const session = (kind: string, name: string, spec: Record<string, unknown>) => ({
  apiVersion: API,
  kind,
  metadata: { name, namespace: env.ns },
  spec,
});

const isWrite = (r: { method: string }) => r.method !== "GET";

async function converged(): Promise<boolean | undefined> {
  const [pools, claims, cis, agss, rts] = await Promise.all([
    client.resource(SANDBOX_POOLS).list({ namespace: env.ns }),
    client.resource(SANDBOX_CLAIMS).list({ namespace: env.ns }),
    client.resource(CODE_INTERPRETERS).list({ namespace: env.ns }),
    client.resource(AGENT_SESSIONS).list({ namespace: env.ns }),
    client.resource(AGENT_RUNTIMES).list({ namespace: env.ns }),
  ]);
  const ok =
    pools.items.length === 2 &&
    pools.items.every((p) => p.status?.availableReplicas === p.spec.replicas) &&
    claims.items.length === 4 &&
    claims.items.every((c) => c.status?.conditions?.find((x) => x.type === "Ready")?.status === "True") &&
    [...cis.items, ...agss.items].every((s) => s.status?.phase === "Ready") &&
    rts.items.every((r) => r.status?.conditions?.[0]?.status === "True");
  return ok || undefined;
}

describe("idempotency", () => {
  test("a second reconcile of a converged object makes zero writes", async () => {
    await apply(
      pool(env.ns, "p", 2),
      session("AgentRuntime", "rt", {
        sandboxTemplate: template(undefined, { labels: { agent: "a" } }),
        warmPool: { replicas: 1 },
      }),
    );
    // Warm first, so the claims below exercise adoption as well as cold creation.
    await eventually(
      "pools warm",
      async () => {
        const pools = (await client.resource(SANDBOX_POOLS).list({ namespace: env.ns })).items;
        return pools.length === 2 && pools.every((p) => p.status?.availableReplicas === p.spec.replicas)
          ? true
          : undefined;
      },
      60_000,
    );
    await apply(
      claim(env.ns, "warm-claim", { poolRef: { name: "p" } }),
      claim(env.ns, "cold-claim", { sandboxTemplate: template(undefined, { labels: { cold: "yes" } }) }),
      session("CodeInterpreter", "ci-direct", {
        sandboxTemplate: template(),
        provisioning: { mode: "Direct" },
      }),
      session("CodeInterpreter", "ci-pooled", {
        sandboxTemplate: template(),
        provisioning: { poolRef: { name: "p" } },
      }),
      session("AgentSession", "ags", { runtimeRef: { name: "rt" } }),
      session("AgentSession", "ags-direct", { runtimeRef: { name: "rt" }, provisioning: { mode: "Direct" } }),
    );
    await eventually("everything converged", converged, 90_000);
    const proxy = env.controllers.proxy;
    if (!proxy) throw new Error("no proxy");
    // Quiet: no write for a while, so every watch event has been handled.
    await eventually("quiet", () => {
      const last = proxy.requests.filter(isWrite).at(-1);
      return last && Date.now() - last.at > 2_000 ? true : undefined;
    });
    const before = proxy.requests.length;
    const { set } = env.controllers;
    const caches = set.context.caches;
    const objects: Record<ControllerName, { metadata?: { name?: string | undefined } | undefined }[]> = {
      sandbox: caches.sandboxes.list(env.ns),
      pool: caches.pools.list(env.ns),
      claim: caches.claims.list(env.ns),
      codeInterpreter: caches.codeInterpreters.list(env.ns),
      agentSession: caches.agentSessions.list(env.ns),
      runtime: caches.runtimes.list(env.ns),
    };
    let reconciled = 0;
    for (const [controller, list] of Object.entries(objects) as [ControllerName, typeof objects.pool][]) {
      for (const obj of list) {
        await set.reconcilers[controller].reconcile(
          `${env.ns}/${obj.metadata?.name}`,
          AbortSignal.timeout(10_000),
        );
        reconciled++;
      }
    }
    await Bun.sleep(500); // events are recorded in the background: give any stray one time to be sent
    const writes = proxy.requests
      .slice(before)
      .filter(isWrite)
      .map((r) => `${r.method} ${r.path}`);
    expect(writes).toEqual([]);
    expect(reconciled).toBeGreaterThanOrEqual(20);
  }, 150_000);
});
