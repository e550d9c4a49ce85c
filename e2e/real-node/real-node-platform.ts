/**
 * agentland on a real-node-only control plane, as an operator installs it: the namespaces, a client API key
 * in the Secret the gateway mounts (before the gateway starts, so the optional mount is filled at once),
 * `kubectl apply -f manifests`, and the example code-interpreter SandboxPool (the example AgentRuntime's
 * made-up agent image exists nowhere). Returns once both Deployments are Available and the pool is warm.
 */
import { join } from "node:path";
import type { ClusterInfo } from "../cluster/cluster-state";
import { installApiKeys, kubectlFor, SYSTEM_NS, waitPoolsReady } from "../platform/bring-up-platform";

const ROOT = join(import.meta.dir, "../..");

export async function installPlatform(cluster: ClusterInfo): Promise<{ gateway: string; apiKey: string }> {
  const kubectl = kubectlFor(cluster);
  await kubectl(["apply", "-f", join(ROOT, "manifests/10-namespaces.yaml")]);
  const apiKey = (await installApiKeys(kubectl, ["real-node"])).get("real-node");
  if (!apiKey) throw new Error("no API key was made for the real-node principal");
  await kubectl(["apply", "-f", join(ROOT, "manifests")]);
  await kubectl(["apply", "-f", join(ROOT, "manifests/examples/sandbox-pool.yaml")]);
  await kubectl(["-n", SYSTEM_NS, "wait", "--for=condition=Available", "deploy", "--all", "--timeout=180s"]);
  await waitPoolsReady(kubectl);
  const ip = await kubectl([
    ...["-n", SYSTEM_NS, "get", "pods", "-l", "app.kubernetes.io/component=gateway"],
    ...["--field-selector=status.phase=Running", "-o", "jsonpath={.items[0].status.podIP}"],
  ]);
  return { gateway: `http://${ip}:8080`, apiKey };
}
