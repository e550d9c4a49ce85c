/**
 * Read-your-deletes in the session cache, on the real apiserver. The cache's watches run through a fault
 * proxy that can hold them back, so "the watch has not confirmed the delete yet" is a state the test
 * controls instead of a race it hopes to lose.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type FaultProxy, startFaultProxy } from "../../../e2e/harness/fault-proxy";
import type { Clock } from "../../kube/clock";
import { createKubeClient } from "../../kube/kube-client";
import { loadKubeconfigFile } from "../../kube/kube-config";
import { cluster, eventually, installSessionCrds, kubectl, sessionFor } from "../testing/agentcore-fixture";
import { principalHash } from "./principal";
import { createSessionCache, type SessionCache } from "./session-cache";
import { CODE_INTERPRETER_KIND as CI, type SessionObject } from "./session-kinds";

let ns = "";
let proxy: FaultProxy;
const caches: SessionCache[] = [];
const config = loadKubeconfigFile(cluster.kubeconfig);
const admin = createKubeClient(config, { qps: 0, userAgent: "session-cache-test" });

/** A started, synced cache whose requests (watches included) go through the fault proxy. */
async function proxiedCache(clock?: Clock): Promise<SessionCache> {
  const client = createKubeClient(
    { ...config, server: proxy.url, tls: { insecureSkipVerify: false } },
    { qps: 0, userAgent: "session-cache-test" },
  );
  const cache = createSessionCache(client, [ns], clock ? { clock, tombstoneTtlMs: 5_000 } : {});
  caches.push(cache);
  cache.start();
  await cache.waitForSync(AbortSignal.timeout(20_000));
  return cache;
}

const seen = (cache: SessionCache, name: string) =>
  eventually(`${name} in the cache`, async () => cache.get(CI, ns, name));
const listed = (cache: SessionCache, principal: string) =>
  cache.listByPrincipal(principalHash(principal)).map(({ obj }) => obj.metadata.name);

beforeAll(async () => {
  await installSessionCrds();
  ns = await cluster.createNamespace("session-cache");
  const { tls } = config;
  proxy = startFaultProxy({
    upstream: cluster.server,
    tls: { ca: tls.ca ?? "", cert: tls.cert ?? "", key: tls.key ?? "" },
  });
}, 60_000);

afterAll(async () => {
  await Promise.all(caches.map((c) => c.stop()));
  await proxy?.stop();
  await kubectl(["delete", "ns", ns, "--wait=false"]);
}, 30_000);

describe("session cache", () => {
  test("a session this replica deleted is gone from its reads at once, though its watch has not shown the delete", async () => {
    const deleter = await proxiedCache();
    const bystander = await proxiedCache();
    const doomed = await sessionFor(ns, "ivy", {});
    const kept = await sessionFor(ns, "ivy", {});
    const obj = (await seen(deleter, doomed)) as SessionObject;
    await seen(deleter, kept);
    await seen(bystander, doomed);

    expect(proxy.stallWatches()).toBeGreaterThanOrEqual(2); // from now on no watch event reaches either cache
    await admin.resource(CI.resource).delete(doomed, { namespace: ns });
    deleter.bury(CI, obj);

    expect(deleter.get(CI, ns, doomed)).toBeUndefined();
    expect(listed(deleter, "ivy")).toEqual([kept]);
    expect(deleter.all().map(({ obj: o }) => o.metadata.name)).not.toContain(doomed);
    expect(deleter.get(CI, ns, kept)?.metadata.name).toBe(kept);
    // Not vacuous: a cache that did not delete it still shows it, because the delete has not reached it.
    expect(bystander.get(CI, ns, doomed)?.metadata.name).toBe(doomed);
    expect(await deleter.untilGone(CI, obj, AbortSignal.timeout(300))).toBe(false);

    // The watches resume (the informers re-watch from their last version) and deliver the delete.
    proxy.dropWatches();
    expect(await deleter.untilGone(CI, obj, AbortSignal.timeout(20_000))).toBe(true);
    await eventually("the bystander to see the delete", async () =>
      bystander.get(CI, ns, doomed) ? undefined : true,
    );
  }, 60_000);

  test("a tombstone hides only the object it was made for: a new object of that name is visible", async () => {
    const cache = await proxiedCache();
    const name = await sessionFor(ns, "jack", {});
    const first = (await seen(cache, name)) as SessionObject;
    await admin.resource(CI.resource).delete(name, { namespace: ns });
    cache.bury(CI, first);
    expect(await cache.untilGone(CI, first, AbortSignal.timeout(20_000))).toBe(true);
    const again = {
      apiVersion: first.apiVersion,
      kind: first.kind,
      metadata: { name, namespace: ns, annotations: first.metadata.annotations },
      spec: {},
    };
    await kubectl(["create", "-f", "-"], JSON.stringify(again));
    const second = await eventually("the new object", async () => {
      const o = cache.get(CI, ns, name);
      return o && o.metadata.uid !== first.metadata.uid ? o : undefined;
    });
    expect(listed(cache, "jack")).toEqual([name]);
    expect(second.metadata.uid).not.toBe(first.metadata.uid);
  }, 60_000);

  test("a delete the watch never confirms hides the session only until the tombstone's TTL", async () => {
    let monotonic = 0;
    const clock: Clock = {
      now: () => Date.now(),
      monotonic: () => monotonic,
      sleep: (ms) => Bun.sleep(ms),
    };
    const cache = await proxiedCache(clock);
    const name = await sessionFor(ns, "kate", {});
    const obj = (await seen(cache, name)) as SessionObject;
    // Buried without a delete: as if the delete was accepted but its watch event never came.
    cache.bury(CI, obj);
    monotonic += 4_999;
    expect(cache.get(CI, ns, name)).toBeUndefined();
    expect(listed(cache, "kate")).toEqual([]);
    monotonic += 1;
    expect(cache.get(CI, ns, name)?.metadata.uid).toBe(obj.metadata.uid ?? "");
    expect(listed(cache, "kate")).toEqual([name]);
  }, 30_000);
});
