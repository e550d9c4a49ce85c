/**
 * Shared set-up of the kube layer's integration tests: the admin config of the running test cluster and,
 * on request, a fault-injecting proxy in front of it with a client pointed at the proxy.
 */
import { type FaultProxy, startFaultProxy } from "../../../e2e/harness/fault-proxy";
import { type TestCluster, testCluster } from "../../../e2e/harness/test-cluster";
import { createKubeClient, type KubeClient, type KubeClientOptions } from "../kube-client";
import { type KubeConfig, loadKubeconfigFile } from "../kube-config";

export interface KubeTestEnv {
  readonly cluster: TestCluster;
  readonly config: KubeConfig;
  client(opts?: KubeClientOptions): KubeClient;
}

export function kubeTestEnv(): KubeTestEnv {
  const cluster = testCluster();
  const config = loadKubeconfigFile(cluster.kubeconfig);
  return { cluster, config, client: (opts) => createKubeClient(config, { qps: 0, ...opts }) };
}

/** A proxy in front of `config`'s apiserver, and a config that talks to the proxy. */
export function proxied(config: KubeConfig): { proxy: FaultProxy; config: KubeConfig } {
  const { ca, cert, key } = config.tls;
  if (!ca || !cert || !key) throw new Error("the fault proxy needs a client-certificate kubeconfig");
  const proxy = startFaultProxy({ upstream: config.server, tls: { ca, cert, key } });
  return {
    proxy,
    config: {
      server: proxy.url,
      tls: { insecureSkipVerify: false },
      namespace: config.namespace,
      source: "fault-proxy",
    },
  };
}

/** Polls `probe` until it returns true or `timeoutMs` passes (then throws with `what`). */
export async function eventually(
  what: string,
  probe: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await probe()) return;
    await Bun.sleep(25);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
}
