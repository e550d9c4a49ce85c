/** Stopping an informer ends its open watch request at once, even while the stream is idle. */
import { expect, test } from "bun:test";
import { testCluster } from "../../e2e/harness/test-cluster";
import { createInformer } from "./informer";
import { createKubeClient } from "./kube-client";
import { loadKubeconfigFile } from "./kube-config";
import { CONFIG_MAPS } from "./resources";

test("stop() on an informer with an idle open watch resolves promptly and opens nothing after", async () => {
  const cluster = testCluster();
  const ns = await cluster.createNamespace("watch-stop");
  const client = createKubeClient(loadKubeconfigFile(cluster.kubeconfig));
  const informer = createInformer(client.resource(CONFIG_MAPS), { namespace: ns });
  informer.start();
  await informer.waitForSync();
  await Bun.sleep(200); // the watch is now open and idle
  const started = performance.now();
  await informer.stop();
  expect(performance.now() - started).toBeLessThan(2_000);
});
