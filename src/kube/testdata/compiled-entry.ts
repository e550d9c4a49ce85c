/**
 * Entry of the compiled test executable (`bun build --compile`): loads a config the way a component
 * does, lists ConfigMaps, and prints one JSON line. Settings arrive as JSON on stdin.
 */
import { createKubeClient } from "../kube-client";
import { type KubeConfig, loadInClusterConfig, loadKubeconfigFile } from "../kube-config";
import { KubeError } from "../kube-error";
import { CONFIG_MAPS } from "../resources";

type Settings =
  | { mode: "kubeconfig"; path: string; namespace: string }
  | { mode: "in-cluster"; host: string; port: string; serviceAccountDir: string };

const s = JSON.parse(await Bun.stdin.text()) as Settings;
try {
  const config: KubeConfig =
    s.mode === "kubeconfig"
      ? loadKubeconfigFile(s.path)
      : loadInClusterConfig({ host: s.host, port: s.port, serviceAccountDir: s.serviceAccountDir });
  const namespace = s.mode === "kubeconfig" ? s.namespace : config.namespace;
  const client = createKubeClient(config, { maxRetries: 0, timeoutMs: 20_000 });
  const { items } = await client.resource(CONFIG_MAPS).list({ namespace });
  console.log(JSON.stringify({ ok: true, names: items.map((c) => c.metadata?.name) }));
} catch (err) {
  const e = err instanceof KubeError ? err : new KubeError(String(err), { code: 0, reason: "Unknown" });
  console.log(JSON.stringify({ ok: false, code: e.code, reason: e.reason, message: e.message }));
}
