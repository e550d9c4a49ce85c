/**
 * Which unbound claims hold a pool's refill back, asked of real caches: a claim whose session already
 * reserved its sandbox completes that binding and takes no pool member, so it must not count as waiting
 * (in a burst the sessions' claims trail their reservations by seconds; counted, they started the refill
 * while the burst's sessions still waited for their first run). No controller runs: nothing binds the
 * claims behind the test's back.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { CodeInterpreter } from "../../api/code-interpreter";
import { CODE_INTERPRETERS, SANDBOX_CLAIMS, SANDBOX_POOLS, SANDBOXES } from "../../api/resource-types";
import type { Sandbox } from "../../api/sandbox";
import type { SandboxClaim } from "../../api/sandbox-claim";
import type { SandboxPool } from "../../api/sandbox-pool";
import { cachedTemplateHash } from "./pool-template";
import { createRefillDeferral, REFILL_RECHECK_MS } from "./refill-deferral";
import { reservedBy } from "./reservation";
import { reservationAnnotation } from "./reservation-annotation";
import {
  API,
  adminClient,
  claim,
  controllerNamespace,
  eventually,
  kubectl,
  pool,
  type RunningControllers,
  startControllers,
  template,
} from "./testing/controller-fixture";

const client = adminClient();
let ns = "";
let running: RunningControllers | undefined;

beforeAll(async () => {
  ns = await controllerNamespace("refill-held");
  running = await startControllers(ns, { reconcile: false });
}, 60_000);

afterAll(async () => {
  await running?.stop();
  if (ns) await kubectl(["delete", "ns", ns, "--wait=false"]);
}, 60_000);

describe("refill deferral: claims that wait for a pool member", () => {
  test("a claim whose session reserved its sandbox does not hold the refill back; a claim without one does", async () => {
    if (!running) throw new Error("the controller set did not start");
    const ctx = running.set.context;
    const p = (await client
      .resource(SANDBOX_POOLS)
      .create(pool(ns, "warm", 2) as unknown as SandboxPool, { namespace: ns })) as SandboxPool;
    const tmpl = template();
    const hash = cachedTemplateHash(tmpl as never);
    // A sandbox taken out of the pool by a reservation, as a create handler's PUT leaves it.
    const warm = await client.resource(SANDBOXES).create(
      {
        apiVersion: API,
        kind: "Sandbox",
        metadata: { name: "reserved-one", namespace: ns },
        spec: { sandboxTemplate: tmpl, templateHash: hash },
      } as unknown as Sandbox,
      { namespace: ns },
    );
    const token = "a1b2c3d4e5f60718";
    await client
      .resource(SANDBOXES)
      .update(reservedBy(warm, "CodeInterpreter", "holder", token, new Date().toISOString()), {
        namespace: ns,
      });
    const session = await client.resource(CODE_INTERPRETERS).create(
      {
        apiVersion: API,
        kind: "CodeInterpreter",
        metadata: {
          name: "holder",
          namespace: ns,
          annotations: reservationAnnotation({
            sandbox: "reserved-one",
            resourceVersion: warm.metadata.resourceVersion ?? "",
            token,
          }),
        },
        spec: { provisioning: { mode: "PoolPreferred", poolRef: { name: "warm" } } },
      } as unknown as CodeInterpreter,
      { namespace: ns },
    );
    const owned = (name: string, owner?: CodeInterpreter) => {
      const c = claim(ns, name, { poolRef: { name: "warm" } });
      const { name: ownerName, uid } = owner?.metadata ?? {};
      const ref = { apiVersion: API, kind: "CodeInterpreter", name: ownerName, uid, controller: true };
      return {
        ...c,
        metadata: { ...c.metadata, ...(owner ? { ownerReferences: [ref] } : {}) },
      } as unknown as SandboxClaim;
    };
    const claims = client.resource(SANDBOX_CLAIMS);
    await claims.create(owned("holder", session), { namespace: ns });
    await claims.create(owned("lone"), { namespace: ns });
    await eventually("the caches show both claims and the reservation", () => {
      const seen = ctx.caches.claims.list(ns).length === 2;
      const reserved = ctx.caches.sandboxes.get(ns, "reserved-one")?.metadata.annotations;
      return seen && reserved && ctx.caches.codeInterpreters.get(ns, "holder") ? true : undefined;
    });

    // One Ready member left and a claim with nothing reserved for it: the refill waits for that claim.
    const withLone = createRefillDeferral(ctx);
    expect(withLone.delayMs(`${ns}/warm`, p, 1, hash)).toBe(REFILL_RECHECK_MS);

    await claims.delete("lone", { namespace: ns });
    await eventually("the lone claim gone from the cache", () =>
      ctx.caches.claims.get(ns, "lone") ? undefined : true,
    );
    // Only the claim whose session holds its sandbox is left: nothing waits for a member, refill now.
    const heldOnly = createRefillDeferral(ctx);
    expect(heldOnly.delayMs(`${ns}/warm`, p, 1, hash)).toBe(0);
  }, 60_000);
});
