/**
 * Informer recovery when the apiserver itself goes away or forgets history. These tests kill and restart
 * the kube-apiserver and compact etcd, so they run on a dedicated cluster of their own, never the shared one.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import type { ClusterInfo } from "../../e2e/cluster/cluster-state";
import { clusterDown, clusterUp } from "../../e2e/cluster/control-plane";
import { startDaemon, stopProcesses } from "../../e2e/cluster/processes";
import { createInformer } from "./informer";
import { createKubeClient } from "./kube-client";
import { loadKubeconfigFile } from "./kube-config";
import { isGone, type KubeError } from "./kube-error";
import { CONFIG_MAPS, NAMESPACES } from "./resources";
import { agrees, mirror } from "./testdata/informer-probe";
import { eventually, proxied } from "./testdata/kube-test-env";

const name = `kube-restart-${process.pid}`;
let info: ClusterInfo;
let apiserverPid = 0;
const fieldSelector = "metadata.name!=kube-root-ca.crt";
const backoff = { baseMs: 100, maxMs: 1_000 };

beforeAll(async () => {
  info = await clusterUp({ name, withNode: false, log: () => {} });
  apiserverPid = info.pids["kube-apiserver"] ?? 0;
}, 600_000);
afterAll(() => clusterDown(name), 120_000);

const admin = () => createKubeClient(loadKubeconfigFile(info.kubeconfig), { qps: 0, timeoutMs: 10_000 });
const cmdline = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);

/** Kills the apiserver (SIGKILL: no graceful close of watches) and starts it again with the same argv plus `extra`. */
async function restartApiserver(extra: readonly string[] = []): Promise<void> {
  const argv = [
    ...cmdline(apiserverPid).filter((a) => !extra.some((e) => a.startsWith(e.split("=")[0] ?? e))),
    ...extra,
  ];
  process.kill(apiserverPid, "SIGKILL");
  await stopProcesses([apiserverPid], 5_000);
  apiserverPid = startDaemon(info.dir, "kube-apiserver", argv);
  const probe = admin().resource(NAMESPACES);
  await eventually(
    "apiserver back",
    () =>
      probe.get("default").then(
        () => true,
        () => false,
      ),
    120_000,
  );
}

async function namespace(prefix: string): Promise<string> {
  const ns = await admin()
    .resource(NAMESPACES)
    .create({ metadata: { generateName: `${prefix}-` } });
  return ns.metadata?.name ?? "";
}

async function churn(ns: string, prefix: string, n: number): Promise<void> {
  const cms = admin().resource(CONFIG_MAPS);
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const name = `${prefix}-${i}`;
      await cms.create({ metadata: { name }, data: { v: "0" } }, { namespace: ns });
      if (i % 2) await cms.patch(name, { namespace: ns, type: "merge", patch: { data: { v: "1" } } });
      if (i % 3 === 0) await cms.delete(name, { namespace: ns });
    }),
  );
}

test("after the apiserver process is killed and restarted, the informer matches a fresh list", async () => {
  const ns = await namespace("restart");
  await churn(ns, "before", 30);
  const client = admin();
  const errors: KubeError[] = [];
  const informer = createInformer(client.resource(CONFIG_MAPS), {
    namespace: ns,
    fieldSelector,
    backoff,
    onError: (e) => errors.push(e),
  });
  const m = mirror(informer);
  informer.start();
  await informer.waitForSync();
  await restartApiserver();
  // Changes right after the restart race the informer's reconnection (in back-off): some are missed.
  await churn(ns, "after", 30);
  await admin().resource(CONFIG_MAPS).delete("before-1", { namespace: ns });
  await eventually(
    "informer agrees",
    () => agrees(informer, m, client.resource(CONFIG_MAPS), ns, fieldSelector),
    60_000,
  );
  expect(m.deleted.has(`${ns}/before-1`)).toBe(true);
  // The outage was noticed (network errors while it was down), and nothing but outage-type failures occurred.
  expect(errors.length).toBeGreaterThan(0);
  expect(errors.filter((e) => !isGone(e) && e.code !== 0 && e.code < 500)).toEqual([]);
  await informer.stop();
}, 180_000);

test("a forced 410 (etcd compacted past the informer's resourceVersion) relists and delivers the missed changes", async () => {
  // With the watch cache on, the apiserver answers old resourceVersions from memory; switch it off for
  // ConfigMaps so watches go to etcd, where compaction really makes the informer's resourceVersion too old.
  await restartApiserver(["--watch-cache-sizes=configmaps#0"]);
  const ns = await namespace("compact");
  await churn(ns, "before", 20);
  const cfg = loadKubeconfigFile(info.kubeconfig);
  const { proxy, config } = proxied(cfg);
  try {
    const errors: KubeError[] = [];
    const resource = createKubeClient(config, { qps: 0 }).resource(CONFIG_MAPS);
    const informer = createInformer(resource, {
      namespace: ns,
      fieldSelector,
      backoff,
      onError: (e) => errors.push(e),
    });
    const m = mirror(informer);
    informer.start();
    await informer.waitForSync();
    const staleRv = informer.resourceVersion;
    proxy.fail({ status: 503, count: 1_000_000, match: (r) => r.watch });
    proxy.dropWatches();
    await churn(ns, "during", 20);
    await admin().resource(CONFIG_MAPS).delete("before-1", { namespace: ns });
    await compactEtcd();
    // The apiserver itself now refuses the informer's resourceVersion.
    const refused = await admin()
      .resource(CONFIG_MAPS)
      .watch({ namespace: ns, resourceVersion: staleRv })
      .then(async (w) => {
        for await (const _ of w) break;
        return undefined;
      })
      .catch((e: unknown) => e);
    expect(isGone(refused)).toBe(true);
    proxy.clearFaults();
    await eventually(
      "informer agrees after the relist",
      () => agrees(informer, m, admin().resource(CONFIG_MAPS), ns, fieldSelector),
      60_000,
    );
    expect(errors.some(isGone)).toBe(true);
    expect(m.deleted.has(`${ns}/before-1`)).toBe(true);
    await informer.stop();
  } finally {
    await proxy.stop();
  }
}, 180_000);

/** Compacts etcd up to its current revision through its v3 HTTP gateway. */
async function compactEtcd(): Promise<void> {
  const etcdPid = info.pids["etcd"] ?? 0;
  const url = cmdline(etcdPid)
    .find((a) => a.startsWith("--listen-client-urls="))
    ?.split("=")[1];
  const post = (path: string, body: unknown) =>
    fetch(`${url}${path}`, { method: "POST", body: JSON.stringify(body) }).then(
      (r) => r.json() as Promise<{ header: { revision: string } }>,
    );
  const { header } = await post("/v3/kv/range", { key: btoa("/") });
  await post("/v3/kv/compaction", { revision: header.revision, physical: true });
}
