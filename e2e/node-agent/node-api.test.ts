import { afterAll, expect, test } from "bun:test";
import { createKubeClient } from "../../src/kube/kube-client";
import { CONFIG_MAPS } from "../../src/kube/resources";
import { kubeTestEnv, proxied } from "../../src/kube/testdata/kube-test-env";
import { createObjectSource } from "./node-api";

const env = kubeTestEnv();
const { proxy, config: viaProxy } = proxied(env.config);
afterAll(() => proxy.stop());

test("pods reading one ConfigMap within the shared window cost one GET; after it a change is read", async () => {
  const ns = await env.cluster.createNamespace("node-api");
  const admin = env.client().resource(CONFIG_MAPS);
  await admin.create({ metadata: { name: "jwks" }, data: { v: "1" } }, { namespace: ns });
  let clock = 0;
  const source = createObjectSource(createKubeClient(viaProxy, { qps: 0 }), {
    sharedReadMs: 1_000,
    now: () => clock,
  });
  const path = `/api/v1/namespaces/${ns}/configmaps/jwks`;
  const gets = () => proxy.requests.filter((r) => r.method === "GET" && r.path === path).length;

  const reads = await Promise.all(Array.from({ length: 50 }, () => source.configMap(ns, "jwks")));
  expect(reads.map((r) => r?.data?.["v"])).toEqual(Array(50).fill("1"));
  clock = 999;
  expect((await source.configMap(ns, "jwks"))?.data?.["v"]).toBe("1");
  expect(gets()).toBe(1);

  await admin.patch("jwks", { namespace: ns, type: "merge", patch: { data: { v: "2" } } });
  clock = 1_000;
  expect((await source.configMap(ns, "jwks"))?.data?.["v"]).toBe("2");
  expect(gets()).toBe(2);
  // A missing object is shared too (an optional source), and reads of other objects are separate.
  expect(await source.configMap(ns, "absent")).toBeUndefined();
  expect(await source.secret(ns, "jwks")).toBeUndefined();
});

test("a caller that gives up does not cancel the shared read for the others", async () => {
  const ns = await env.cluster.createNamespace("node-api");
  await env
    .client()
    .resource(CONFIG_MAPS)
    .create({ metadata: { name: "cm" }, data: { v: "x" } }, { namespace: ns });
  const source = createObjectSource(createKubeClient(viaProxy, { qps: 0 }));
  const quitter = new AbortController();
  const first = source.configMap(ns, "cm", quitter.signal);
  const second = source.configMap(ns, "cm");
  quitter.abort(new Error("pod deleted"));
  await expect(first).rejects.toThrow("pod deleted");
  expect((await second)?.data?.["v"]).toBe("x");
});
