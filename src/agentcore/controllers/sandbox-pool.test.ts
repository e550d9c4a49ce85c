import { describe, expect, test } from "bun:test";
import { SANDBOX_CLAIMS, SANDBOX_POOLS, SANDBOXES } from "../../api/resource-types";
import type { Sandbox } from "../../api/sandbox";
import type { SandboxClaim } from "../../api/sandbox-claim";
import type { SandboxPool } from "../../api/sandbox-pool";
import {
  adminClient,
  apply,
  claim,
  controllerNamespace,
  eventually,
  kubectl,
  pool,
  recordWatch,
  startControllers,
  template,
  useControllers,
} from "./testing/controller-fixture";

const env = useControllers("ctl-pool");
const client = adminClient();
const pools = client.resource(SANDBOX_POOLS);
const sandboxes = client.resource(SANDBOXES);
const claims = client.resource(SANDBOX_CLAIMS);

const ownerOf = (s: Sandbox) => s.metadata.ownerReferences?.find((r) => r.controller)?.name;
async function members(poolName: string): Promise<Sandbox[]> {
  const all = (await sandboxes.list({ namespace: env.ns })).items;
  return all.filter((s) => ownerOf(s) === poolName && !s.metadata.deletionTimestamp);
}
const ready = (list: Sandbox[]) => list.filter((s) => s.status?.phase === "Ready");

async function poolReady(name: string, n: number): Promise<SandboxPool> {
  return eventually(
    `pool ${name}: ${n} available`,
    async () => {
      const p = await pools.get(name, { namespace: env.ns });
      return p.status?.availableReplicas === n &&
        p.status.replicas === n &&
        (await members(name)).length === n
        ? p
        : undefined;
    },
    60_000,
  );
}

describe("SandboxPool controller", () => {
  test("a claimed sandbox stops counting and the pool refills to its replicas", async () => {
    await apply(pool(env.ns, "refill", 2));
    await poolReady("refill", 2);
    await claims.create(claim(env.ns, "taker", { poolRef: { name: "refill" } }) as unknown as SandboxClaim, {
      namespace: env.ns,
    });
    const taken = await eventually("claim bound", async () => {
      const c = await claims.get("taker", { namespace: env.ns });
      return c.status?.phase === "Bound" ? c.status.sandboxName : undefined;
    });
    const p = await poolReady("refill", 2);
    expect(p.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
    expect((await members("refill")).map((s) => s.metadata.name)).not.toContain(taken);
    const held = await sandboxes.get(taken ?? "", { namespace: env.ns });
    expect(ownerOf(held)).toBe("taker");
    expect(held.metadata.labels?.["agentland.fl0rencess720.app/claim"]).toBe("taker");
  }, 90_000);

  test("a template rollout keeps warm capacity: Ready members never drop below replicas", async () => {
    await apply(pool(env.ns, "rollout", 3));
    const before = await poolReady("rollout", 3);
    const watch = await recordWatch(client, SANDBOXES, env.ns);
    await apply(pool(env.ns, "rollout", 3, template(undefined, { labels: { version: "two" } })));
    const after = await eventually(
      "rollout done",
      async () => {
        const p = await pools.get("rollout", { namespace: env.ns });
        const m = await members("rollout");
        const done =
          p.status?.templateHash !== before.status?.templateHash &&
          p.status?.availableReplicas === 3 &&
          m.length === 3;
        return done &&
          m.every((s) => s.spec.templateHash === p.status?.templateHash && s.status?.phase === "Ready")
          ? p
          : undefined;
      },
      90_000,
    );
    await watch.stop();
    // Replay every change the watch saw: the pool's Ready members, old or new template, never fewer than 3.
    const state = new Map<string, Sandbox>(
      (watch.initial as Sandbox[]).map((s) => [s.metadata.name ?? "", s]),
    );
    let lowest = Number.POSITIVE_INFINITY;
    for (const s of watch.events as Sandbox[]) {
      if (ownerOf(s) !== "rollout" && !state.has(s.metadata.name ?? "")) continue;
      state.set(s.metadata.name ?? "", s);
      const live = [...state.values()].filter(
        (x) => ownerOf(x) === "rollout" && !x.metadata.deletionTimestamp,
      );
      lowest = Math.min(lowest, ready(live).length);
    }
    expect(lowest).toBeGreaterThanOrEqual(3);
    expect(after.status?.readyReplicas).toBe(3);
  }, 120_000);

  test("a burst of claims that empties the pool: each gets its own warm member, then the pool refills (the burst hold ends)", async () => {
    const n = 12; // above the burst threshold: the refill is held until the burst is over
    await apply(pool(env.ns, "burst", n));
    await poolReady("burst", n);
    const warm = new Set((await members("burst")).map((s) => s.metadata.name));
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        claims.create(
          claim(env.ns, `burst-${i}`, { poolRef: { name: "burst" } }) as unknown as SandboxClaim,
          {
            namespace: env.ns,
          },
        ),
      ),
    );
    const held = await eventually(
      "every claim bound",
      async () => {
        const bound = (await claims.list({ namespace: env.ns })).items
          .filter((c) => c.metadata.name?.startsWith("burst-") && c.status?.phase === "Bound")
          .map((c) => c.status?.sandboxName ?? "");
        return bound.length === n ? bound : undefined;
      },
      60_000,
    );
    expect(new Set(held).size).toBe(n);
    for (const name of held) expect(warm.has(name)).toBe(true);
    const refilled = await poolReady("burst", n);
    expect(refilled.status?.readyReplicas).toBe(n);
    const now = new Set((await members("burst")).map((s) => s.metadata.name));
    for (const name of held) expect(now.has(name)).toBe(false);
  }, 120_000);

  test("kubectl scale resizes the pool both ways", async () => {
    await apply(pool(env.ns, "scaled", 1));
    await poolReady("scaled", 1);
    await kubectl(["-n", env.ns, "scale", "sbxp/scaled", "--replicas=4"]);
    await poolReady("scaled", 4);
    await kubectl(["-n", env.ns, "scale", "sbxp/scaled", "--replicas=1"]);
    const p = await poolReady("scaled", 1);
    expect(p.status?.selector).toBe(
      "agentland.fl0rencess720.app/pool=scaled,!agentland.fl0rencess720.app/claim",
    );
    const shown = await kubectl(["-n", env.ns, "get", "sbx", "-l", p.status?.selector ?? "", "-o", "name"]);
    expect(shown.trim().split("\n")).toHaveLength(1);
  }, 120_000);

  test("deleting a pool deletes its unclaimed sandboxes and never a claimed one", async () => {
    await apply(pool(env.ns, "doomed", 3));
    await poolReady("doomed", 3);
    await claims.create(
      claim(env.ns, "survivor", { poolRef: { name: "doomed" } }) as unknown as SandboxClaim,
      {
        namespace: env.ns,
      },
    );
    const kept = await eventually("claim bound", async () => {
      const c = await claims.get("survivor", { namespace: env.ns });
      return c.status?.phase === "Bound" ? c.status.sandboxName : undefined;
    });
    await kubectl(["-n", env.ns, "delete", "sbxp", "doomed", "--wait=true", "--timeout=60s"]);
    await eventually(
      "unclaimed members gone",
      async () => {
        const left = (
          await sandboxes.list({
            namespace: env.ns,
            labelSelector: "agentland.fl0rencess720.app/pool=doomed",
          })
        ).items;
        return left.length === 1 ? left : undefined;
      },
      60_000,
    );
    const survivor = await sandboxes.get(kept ?? "", { namespace: env.ns });
    expect(survivor.metadata.deletionTimestamp).toBeUndefined();
    expect(survivor.status?.phase).toBe("Ready");
    expect(ownerOf(survivor)).toBe("survivor");
  }, 120_000);
});

describe("SandboxPool controller with a stale cache", () => {
  test("while the sandbox watch is down, a pool reconciled again and again creates exactly its replicas", async () => {
    const staleNs = await controllerNamespace("ctl-stale");
    const recorded = await startControllers(staleNs, { recordRequests: true, resyncMs: 200 });
    try {
      const proxy = recorded.proxy;
      if (!proxy) throw new Error("no proxy");
      // The sandbox informer listed (empty) at start; from now on its watches fail, so it never sees what
      // the pool creates, while the pool itself is reconciled every 200 ms.
      proxy.fail({ status: 500, count: 3, match: (r) => r.watch && r.path.endsWith("/sandboxes") });
      // Create the pool only once the sandbox informer's re-watch has really failed: otherwise a fast
      // machine can converge the pool before the fault is ever exercised. Drop again until then: a watch
      // whose upstream answer was still on its way at the first drop (a loaded machine) opens after it.
      await eventually(
        "sandbox watch failing",
        async () => {
          if (proxy.requests.some((r) => r.watch && r.path.endsWith("/sandboxes") && r.status === 500))
            return true;
          proxy.dropWatches();
          return undefined;
        },
        30_000,
      );
      await pools.create(pool(staleNs, "steady", 5) as unknown as SandboxPool, { namespace: staleNs });
      await eventually(
        "pool steady ready",
        async () => {
          const p = await pools.get("steady", { namespace: staleNs });
          return p.status?.availableReplicas === 5 ? p : undefined;
        },
        90_000,
      );
      const creates = proxy.requests.filter((r) => r.method === "POST" && r.path.endsWith("/sandboxes"));
      expect(creates).toHaveLength(5);
      expect(
        proxy.requests.filter((r) => r.watch && r.path.endsWith("/sandboxes") && r.status === 500),
      ).toHaveLength(3);
    } finally {
      await recorded.stop();
      await kubectl(["delete", "ns", staleNs, "--wait=false"]);
    }
  }, 120_000);
});
