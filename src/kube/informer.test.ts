import { afterAll, expect, test } from "bun:test";
import { createInformer, labelIndexer, ownerUidIndexer } from "./informer";
import { createKubeClient } from "./kube-client";
import { isGone, type KubeError } from "./kube-error";
import { CONFIG_MAPS } from "./resources";
import { agrees, mirror } from "./testdata/informer-probe";
import { eventually, kubeTestEnv, proxied } from "./testdata/kube-test-env";

const env = kubeTestEnv();
const direct = env.client().resource(CONFIG_MAPS);
const { proxy, config: viaProxy } = proxied(env.config);
afterAll(() => proxy.stop());

/** Every namespace gets a `kube-root-ca.crt` ConfigMap from the controller-manager: leave it out. */
const fieldSelector = "metadata.name!=kube-root-ca.crt";
const watchOpts = { backoff: { baseMs: 50, maxMs: 400 }, fieldSelector };
const isWatch = (r: { watch: boolean }) => r.watch;
const isList = (ns: string) => (r: { watch: boolean; method: string; path: string }) =>
  !r.watch && r.method === "GET" && r.path === `/api/v1/namespaces/${ns}/configmaps`;

/** An informer through the fault proxy, its handler mirror, and the handler errors it saw. */
async function proxiedInformer(ns: string, extra: Parameters<typeof createInformer>[1] = {}) {
  const handlerErrors: unknown[] = [];
  const errors: KubeError[] = [];
  const resource = createKubeClient(viaProxy, { qps: 0 }).resource(CONFIG_MAPS);
  const informer = createInformer(resource, {
    namespace: ns,
    ...watchOpts,
    onHandlerError: (e) => handlerErrors.push(e),
    onError: (e) => errors.push(e),
    ...extra,
  });
  const m = mirror(informer);
  informer.start();
  await informer.waitForSync();
  return { informer, m, handlerErrors, errors };
}

/** Creates, updates and deletes ConfigMaps in `ns`; returns the names it deleted. */
async function churn(ns: string, prefix: string, n: number, concurrency = 20): Promise<string[]> {
  const deleted: string[] = [];
  let next = 0;
  const one = async (i: number) => {
    const name = `${prefix}-${i}`;
    await direct.create({ metadata: { name }, data: { v: "0" } }, { namespace: ns });
    if (i % 3 !== 0) await direct.patch(name, { namespace: ns, type: "merge", patch: { data: { v: "1" } } });
    if (i % 4 === 0) {
      await direct.delete(name, { namespace: ns });
      deleted.push(`${ns}/${name}`);
    }
  };
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await one(next++);
    }),
  );
  return deleted;
}

test("after watches are dropped mid-stream again and again, the informer matches a fresh list", async () => {
  const ns = await env.cluster.createNamespace("inf-drop");
  const { informer, m, handlerErrors } = await proxiedInformer(ns);
  const dropping = (async () => {
    for (let i = 0; i < 20; i++) {
      await Bun.sleep(40);
      if (i % 2) proxy.dropWatches();
      else proxy.endWatches();
    }
  })();
  const deleted = await churn(ns, "drop", 300);
  await dropping;
  await eventually("informer agrees with a fresh list", () => agrees(informer, m, direct, ns, fieldSelector));
  for (const key of deleted) expect(m.state.has(key)).toBe(false);
  expect(handlerErrors).toEqual([]);
  await informer.stop();
}, 60_000);

test("a stream that ends cleanly is re-watched at once from the last resourceVersion, without a relist", async () => {
  const ns = await env.cluster.createNamespace("inf-end");
  const { informer } = await proxiedInformer(ns);
  await eventually("watch open", () => proxy.openWatches() > 0);
  await direct.create({ metadata: { name: "a" } }, { namespace: ns });
  await eventually("informer sees a", () => informer.get(`${ns}/a`) !== undefined);
  const rv = informer.get(`${ns}/a`)?.metadata?.resourceVersion;
  const mark = proxy.requests.length;
  expect(proxy.endWatches()).toBeGreaterThan(0);
  await eventually("re-watch", () => proxy.requests.slice(mark).some(isWatch));
  const rewatch = proxy.requests.slice(mark).find(isWatch);
  expect(rewatch?.query.get("resourceVersion")).toBe(rv ?? "");
  expect(rewatch?.query.get("allowWatchBookmarks")).toBe("true");
  expect(proxy.requests.slice(mark).filter(isList(ns))).toHaveLength(0);
  await informer.stop();
});

test("410 Gone on the watch request relists and delivers the adds, updates and deletes missed meanwhile", async () => {
  const ns = await env.cluster.createNamespace("inf-gone");
  await churn(ns, "before", 20);
  const { informer, m, handlerErrors, errors } = await proxiedInformer(ns);
  const before = { ...m.counts };
  // Disconnect: every watch attempt fails for now, so changes pile up unseen.
  proxy.fail({ status: 500, count: 1_000_000, match: (r) => r.watch && r.path.includes(ns) });
  proxy.dropWatches();
  const deleted = await churn(ns, "during", 40);
  await direct.delete("before-1", { namespace: ns });
  await direct.patch("before-2", { namespace: ns, type: "merge", patch: { data: { v: "changed" } } });
  await direct.delete("before-5", { namespace: ns });
  const reborn = await direct.create({ metadata: { name: "before-5" } }, { namespace: ns });
  expect(informer.get(`${ns}/before-1`)).toBeDefined();
  proxy.clearFaults();
  const mark = proxy.requests.length;
  proxy.fail({ status: 410, match: (r) => r.watch && r.path.includes(ns) });
  await eventually("informer agrees after relist", () => agrees(informer, m, direct, ns, fieldSelector));
  expect(proxy.requests.slice(mark).filter(isList(ns)).length).toBeGreaterThanOrEqual(1);
  expect(errors.some(isGone)).toBe(true);
  expect(m.deleted.has(`${ns}/before-1`)).toBe(true);
  for (const key of deleted) expect(informer.get(key)).toBeUndefined();
  // before-1 deleted; before-5 deleted and re-created: a delete and an add, not an update.
  expect(m.counts.delete - before.delete).toBe(2);
  expect(m.deleted.has(`${ns}/before-5`)).toBe(true);
  expect(informer.get(`${ns}/before-5`)?.metadata?.uid).toBe(reborn.metadata?.uid ?? "");
  expect(m.counts.update - before.update).toBeGreaterThanOrEqual(1);
  expect(handlerErrors).toEqual([]);
  await informer.stop();
}, 60_000);

test("an in-stream ERROR 410 relists too", async () => {
  const ns = await env.cluster.createNamespace("inf-gone-stream");
  const { informer, m, errors } = await proxiedInformer(ns);
  await eventually("watch open", () => proxy.openWatches() > 0);
  const mark = proxy.requests.length;
  expect(proxy.injectWatchError(410, "Expired")).toBeGreaterThan(0);
  await eventually("relisted", () => proxy.requests.slice(mark).some(isList(ns)));
  expect(errors.some((e) => isGone(e) && e.reason === "Expired")).toBe(true);
  await direct.create({ metadata: { name: "after" } }, { namespace: ns });
  await eventually("informer agrees", () => agrees(informer, m, direct, ns, fieldSelector));
  await informer.stop();
});

test("a half-open watch (no bytes, not even bookmarks) is abandoned after the inactivity timeout", async () => {
  const ns = await env.cluster.createNamespace("inf-stall");
  const { informer, m } = await proxiedInformer(ns, { inactivityMs: 1_000 });
  await eventually("watch open", () => proxy.openWatches() > 0);
  proxy.stallWatches();
  await direct.create({ metadata: { name: "while-stalled" } }, { namespace: ns });
  await eventually(
    "informer sees the change through a new watch",
    () => informer.get(`${ns}/while-stalled`) !== undefined,
    10_000,
  );
  expect(await agrees(informer, m, direct, ns, fieldSelector)).toBe(true);
  await informer.stop();
}, 20_000);

test("a flood of 2,000 changes ends with the informer equal to a fresh list", async () => {
  const ns = await env.cluster.createNamespace("inf-flood");
  const resource = env.client().resource(CONFIG_MAPS);
  const informer = createInformer(resource, { namespace: ns, fieldSelector });
  const m = mirror(informer);
  informer.start();
  await informer.waitForSync();
  // 800 creates + ~533 patches + 200 deletes + 467 more patches ≈ 2,000 changes.
  await churn(ns, "flood", 800, 40);
  const survivors = [...m.state.keys()].slice(0, 467);
  await Promise.all(
    survivors.map((key) =>
      direct
        .patch(key.split("/")[1] ?? "", { namespace: ns, type: "merge", patch: { data: { v: "2" } } })
        .catch(() => {}),
    ),
  );
  await eventually(
    "informer agrees after the flood",
    () => agrees(informer, m, direct, ns, fieldSelector),
    60_000,
  );
  expect(m.counts.add).toBe(800);
  expect(m.counts.delete).toBe(200);
  await informer.stop();
}, 120_000);

test("stop() is final: no request is sent after it, even while backing off from failures", async () => {
  const ns = await env.cluster.createNamespace("inf-stop");
  const { informer } = await proxiedInformer(ns);
  proxy.fail({ status: 500, count: 1_000_000, match: (r) => r.path.includes(ns) });
  proxy.dropWatches();
  await Bun.sleep(300);
  await informer.stop();
  const mark = proxy.requests.length;
  await Bun.sleep(1_000);
  expect(proxy.requests.slice(mark).filter((r) => r.path.includes(ns))).toEqual([]);
  proxy.clearFaults();
});

test("indexes by namespace, owner UID and label follow adds, updates and deletes", async () => {
  const ns = await env.cluster.createNamespace("inf-index");
  const informer = createInformer(direct, {
    namespace: ns,
    fieldSelector,
    indexers: { owner: ownerUidIndexer, tier: labelIndexer("tier") },
  });
  informer.start();
  await informer.waitForSync();
  const owner = await direct.create({ metadata: { name: "owner" } }, { namespace: ns });
  const ownerRef = { apiVersion: "v1", kind: "ConfigMap", name: "owner", uid: owner.metadata?.uid ?? "" };
  for (const [name, tier] of [
    ["a", "web"],
    ["b", "web"],
    ["c", "db"],
  ] as const) {
    await direct.create(
      { metadata: { name, labels: { tier }, ownerReferences: [ownerRef] } },
      { namespace: ns },
    );
  }
  await eventually("cached", () => informer.list().length === 4);
  const names = (objs: { metadata?: { name?: string | undefined } | undefined }[]) =>
    objs.map((o) => o.metadata?.name).sort();
  expect(names(informer.byIndex("namespace", ns))).toEqual(["a", "b", "c", "owner"]);
  expect(names(informer.byIndex("owner", owner.metadata?.uid ?? ""))).toEqual(["a", "b", "c"]);
  expect(names(informer.byIndex("tier", "web"))).toEqual(["a", "b"]);
  await direct.patch("b", { namespace: ns, type: "merge", patch: { metadata: { labels: { tier: "db" } } } });
  await direct.delete("c", { namespace: ns });
  await eventually("b moved, c gone", () => names(informer.byIndex("tier", "db")).join() === "b");
  expect(names(informer.byIndex("tier", "web"))).toEqual(["a"]);
  expect(names(informer.byIndex("owner", owner.metadata?.uid ?? ""))).toEqual(["a", "b"]);
  await informer.stop();
});

test("hasSynced only after the first list; a late handler first gets every cached object as an add", async () => {
  const ns = await env.cluster.createNamespace("inf-sync");
  await churn(ns, "pre", 10);
  const informer = createInformer(direct, { namespace: ns });
  expect(informer.hasSynced()).toBe(false);
  const early: string[] = [];
  informer.addHandlers({ onAdd: (o) => early.push(o.metadata?.name ?? "") });
  informer.start();
  await informer.waitForSync();
  expect(informer.hasSynced()).toBe(true);
  const late: string[] = [];
  informer.addHandlers({ onAdd: (o) => late.push(o.metadata?.name ?? "") });
  expect(late.sort()).toEqual(early.sort());
  expect(late.length).toBe(informer.list().length);
  await informer.stop();
});

test("periodic resync calls onUpdate(obj, obj) for every cached object", async () => {
  const ns = await env.cluster.createNamespace("inf-resync");
  await direct.create({ metadata: { name: "x" } }, { namespace: ns });
  const informer = createInformer(direct, { namespace: ns, resyncMs: 200 });
  let resyncs = 0;
  informer.addHandlers({ onUpdate: (old, obj) => void (old === obj && resyncs++) });
  informer.start();
  await informer.waitForSync();
  await eventually("two resyncs", () => resyncs >= 2, 5_000);
  await informer.stop();
});
