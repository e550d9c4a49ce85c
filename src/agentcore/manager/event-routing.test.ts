/**
 * Event routing is a pure function of an informer event and the caches: these tests feed it events the way
 * an informer delivers them and record which reconciles it queues.
 */
import { describe, expect, test } from "bun:test";
import type { InformerHandlers } from "../../kube/informer";
import type { KubeObject } from "../../kube/kube-object";
import type { Caches, ControllerName } from "../controllers/controller-context";
import { INDEX, type ObjectCache } from "../controllers/object-cache";
import { type RoutingTargets, routeEvents } from "./event-routing";

const NS = "sessions";
const POOL = { kind: "SandboxPool", name: "warm", uid: "pool-uid" };
const CLAIM_OWNER = { kind: "SandboxClaim", name: "c1", uid: "claim-uid" };
const ref = (o: { kind: string; name: string; uid: string }) => ({
  apiVersion: "agentland.fl0rencess720.app/v1alpha1",
  ...o,
  controller: true,
});

/** A Ready pool member, and the same sandbox after claim c1 adopted it. */
const warm = {
  metadata: { name: "warm-abcde", namespace: NS, ownerReferences: [ref(POOL)], resourceVersion: "1" },
  spec: { templateHash: "h" },
  status: { phase: "Ready" },
};
const adopted = {
  ...warm,
  metadata: { ...warm.metadata, ownerReferences: [ref(CLAIM_OWNER)], resourceVersion: "2" },
  spec: { ...warm.spec, claimRef: { name: "c1", uid: "claim-uid" } },
};

function cache<T>(byIndex: Record<string, T[]> = {}): ObjectCache<T> {
  return {
    get: () => undefined,
    byIndex: (index, value) => byIndex[`${index}:${value}`] ?? [],
    list: () => [],
  };
}

function route() {
  const handlers = new Map<string, InformerHandlers<KubeObject>>();
  const target = (kind: string) => ({
    addHandlers: (h: InformerHandlers<KubeObject>) => void handlers.set(kind, h),
  });
  const informers: RoutingTargets = {
    pods: target("pods"),
    sandboxes: target("sandboxes"),
    pools: target("pools"),
    claims: target("claims"),
    codeInterpreters: target("codeInterpreters"),
    agentSessions: target("agentSessions"),
    runtimes: target("runtimes"),
  };
  // Two claims wait unbound in the namespace (PoolRequired on an exhausted pool).
  const waiting = [{ metadata: { name: "w1", namespace: NS } }, { metadata: { name: "w2", namespace: NS } }];
  const caches = {
    pods: cache(),
    sandboxes: cache(),
    pools: cache(),
    claims: cache({ [`${INDEX.unbound}:${NS}`]: waiting }),
    codeInterpreters: cache(),
    agentSessions: cache(),
    runtimes: cache(),
  } as unknown as Caches;
  const queued: string[] = [];
  routeEvents(informers, caches, (controller: ControllerName, key: string) => {
    queued.push(`${controller} ${key}`);
  });
  const sandboxes = handlers.get("sandboxes") as Required<InformerHandlers<KubeObject>>;
  return { sandboxes, queued, claimsWoken: () => queued.filter((q) => /^claim .*\/w\d$/.test(q)).length };
}

describe("event routing", () => {
  test("an adoption wakes its sandbox, the pool that lost it and the claim, not every waiting claim", () => {
    const r = route();
    r.sandboxes.onUpdate(warm as KubeObject, adopted as KubeObject);
    expect(r.queued).toContain(`sandbox ${NS}/warm-abcde`);
    expect(r.queued).toContain(`pool ${NS}/warm`);
    expect(r.queued).toContain(`claim ${NS}/c1`);
    expect(r.claimsWoken()).toBe(0);
  });

  test("a sandbox that is available after an event wakes the claims waiting for one", () => {
    const starting = { ...warm, status: { phase: "Pending" } };
    const r = route();
    r.sandboxes.onUpdate(starting as KubeObject, warm as KubeObject);
    expect(r.claimsWoken()).toBe(2);
    // Still available, only changed: a claim that lost an adoption race to that change tries again.
    r.sandboxes.onUpdate(warm as KubeObject, {
      ...warm,
      metadata: { ...warm.metadata, resourceVersion: "3" },
    });
    expect(r.claimsWoken()).toBe(4);
    r.sandboxes.onAdd(warm as KubeObject);
    expect(r.claimsWoken()).toBe(6);
  });
});
