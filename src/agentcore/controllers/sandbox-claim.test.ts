import { describe, expect, test } from "bun:test";
import { SANDBOX_CLAIMS, SANDBOXES } from "../../api/resource-types";
import type { Sandbox } from "../../api/sandbox";
import type { SandboxClaim } from "../../api/sandbox-claim";
import {
  adminClient,
  apply,
  claim,
  condition,
  eventually,
  kubectl,
  list,
  pool,
  recordWatch,
  template,
  useControllers,
} from "./testing/controller-fixture";

const env = useControllers("ctl-claim", { workers: 8 });
const client = adminClient();
const claims = client.resource(SANDBOX_CLAIMS);
const sandboxes = client.resource(SANDBOXES);

const newClaim = (name: string, spec: Record<string, unknown>) =>
  claim(env.ns, name, spec) as unknown as SandboxClaim;

async function readyCount(poolName: string): Promise<number> {
  const [p] = await list(env.ns, "sandboxpools", undefined).then((all) =>
    all.filter((x) => x.metadata.name === poolName),
  );
  return Number(p?.status?.["availableReplicas"] ?? 0);
}

async function allBound(names: readonly string[]): Promise<SandboxClaim[] | undefined> {
  const items = (await claims.list({ namespace: env.ns })).items.filter((c) =>
    names.includes(c.metadata.name ?? ""),
  );
  return items.length === names.length && items.every((c) => c.status?.phase === "Bound") ? items : undefined;
}

describe("SandboxClaim controller", () => {
  test("exclusivity: 100 claims racing for a pool of 20, ten times: no sandbox ever has two claims, every claim binds", async () => {
    await apply(pool(env.ns, "race", 20));
    const seen = await recordWatch(client, SANDBOXES, env.ns);
    try {
      // Ten rounds, as the issue asks: a round binds in ~20-30 s on a loaded 2-core machine (most of it
      // the PoolRequired claims waiting for the pool's refill pods to start).
      for (let round = 0; round < 10; round++) {
        await eventually(
          `pool race ready (round ${round})`,
          async () => ((await readyCount("race")) >= 20 ? true : undefined),
          60_000,
        );
        const names = Array.from({ length: 100 }, (_, i) => `r${round}-c${i}`);
        // Most may create their own sandbox when the pool runs dry; one in five must wait for the pool to
        // refill (one refill of 20 covers them, keeping the round short).
        await Promise.all(
          names.map((name, i) =>
            claims.create(
              newClaim(name, { poolRef: { name: "race" }, mode: i % 5 ? "PoolPreferred" : "PoolRequired" }),
              { namespace: env.ns },
            ),
          ),
        );
        const bound = await eventually(`100 claims bound (round ${round})`, () => allBound(names), 90_000);
        const holders = new Map<string, string>();
        for (const c of bound) {
          const sandboxName = c.status?.sandboxName ?? "";
          expect(holders.get(sandboxName)).toBeUndefined();
          holders.set(sandboxName, c.metadata.name ?? "");
          const sbx = await sandboxes.get(sandboxName, { namespace: env.ns });
          expect(sbx.spec.claimRef?.uid).toBe(c.metadata.uid ?? "");
        }
        await Promise.all(
          names.map((name) => claims.delete(name, { namespace: env.ns, propagationPolicy: "Background" })),
        );
      }
    } finally {
      await seen.stop();
    }
    // Over every version of every sandbox the watch delivered: at most one claim, ever.
    const claimsOf = new Map<string, Set<string>>();
    for (const s of seen.events as Sandbox[]) {
      const uid = s.metadata.uid ?? "";
      const set = claimsOf.get(uid) ?? new Set<string>();
      if (s.spec.claimRef?.uid) set.add(s.spec.claimRef.uid);
      claimsOf.set(uid, set);
    }
    expect([...claimsOf.values()].filter((set) => set.size > 1)).toEqual([]);
    expect(claimsOf.size).toBeGreaterThanOrEqual(1000);
    // ~4 min on an idle 2-core machine; a cold CI run at load 15 took over 10.
  }, 900_000);

  test("PoolRequired on an empty pool waits (PoolExhausted), then binds when the pool refills", async () => {
    await apply(pool(env.ns, "empty", 0));
    await claims.create(newClaim("patient", { poolRef: { name: "empty" }, mode: "PoolRequired" }), {
      namespace: env.ns,
    });
    const waiting = await eventually("PoolExhausted", async () => {
      const [c] = (await list(env.ns, "sandboxclaims")).filter((x) => x.metadata.name === "patient");
      return condition(c, "Bound")?.reason === "PoolExhausted" ? c : undefined;
    });
    expect(waiting.status?.phase).toBe("Pending");
    await kubectl(["-n", env.ns, "scale", "sbxp/empty", "--replicas=1"]);
    const bound = await eventually("bound after refill", () => allBound(["patient"]), 60_000);
    const sbx = await sandboxes.get(bound[0]?.status?.sandboxName ?? "", { namespace: env.ns });
    expect(sbx.metadata.labels?.["agentland.fl0rencess720.app/pool"]).toBe("empty");
  }, 120_000);

  test("PoolPreferred with no warm sandbox creates its own at once", async () => {
    await apply(pool(env.ns, "none", 0));
    await claims.create(newClaim("eager", { poolRef: { name: "none" } }), { namespace: env.ns });
    const [bound] = await eventually("bound", () => allBound(["eager"]));
    expect(bound?.status?.sandboxName).toBe("eager");
    expect(condition(bound as never, "Bound")?.reason).toBe("Created");
    const sbx = await sandboxes.get("eager", { namespace: env.ns });
    expect(sbx.metadata.ownerReferences?.[0]).toMatchObject({
      kind: "SandboxClaim",
      name: "eager",
      controller: true,
    });
  });

  test("a claim by template takes a warm sandbox only from a pool of exactly that template", async () => {
    const other = template(undefined, { labels: { flavor: "other" } });
    await apply(pool(env.ns, "plain", 1), pool(env.ns, "flavored", 1, other));
    await eventually(
      "pools ready",
      async () =>
        (await readyCount("plain")) >= 1 && (await readyCount("flavored")) >= 1 ? true : undefined,
      60_000,
    );
    await claims.create(newClaim("by-template", { sandboxTemplate: other, mode: "PoolRequired" }), {
      namespace: env.ns,
    });
    const [bound] = await eventually("bound", () => allBound(["by-template"]));
    const sbx = await sandboxes.get(bound?.status?.sandboxName ?? "", { namespace: env.ns });
    expect(sbx.metadata.labels?.["agentland.fl0rencess720.app/pool"]).toBe("flavored");
  }, 120_000);
});
