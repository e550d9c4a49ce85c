/**
 * agentland on a real-node-only control plane, as an operator installs it: the namespaces, a client API key
 * in the Secret the gateway mounts (before the gateway starts, so the optional mount is filled at once),
 * `kubectl apply -f manifests`, and the example code-interpreter SandboxPool (the example AgentRuntime's
 * made-up agent image exists nowhere). Returns once both Deployments are Available and the pool is warm.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApiKey } from "../../src/gateway/auth/api-key-file";
import type { ClusterInfo } from "../cluster/cluster-state";
import { kubectlFor, SANDBOX_NS, SYSTEM_NS } from "../platform/bring-up-platform";

const ROOT = join(import.meta.dir, "../..");

async function installApiKey(kubectl: ReturnType<typeof kubectlFor>): Promise<string> {
  const { key, entry } = createApiKey({ id: "real-node-key", principal: "real-node" });
  const dir = mkdtempSync(join(tmpdir(), "agentland-keys-"));
  try {
    writeFileSync(join(dir, "keys.json"), JSON.stringify({ keys: [entry] }), { mode: 0o600 });
    const secret = await kubectl([
      ...["-n", SYSTEM_NS, "create", "secret", "generic", "agentland-gateway-api-keys"],
      `--from-file=keys.json=${join(dir, "keys.json")}`,
      ...["--dry-run=client", "-o", "json"],
    ]);
    await kubectl(["apply", "-f", "-"], secret);
    return key;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function installPlatform(cluster: ClusterInfo): Promise<{ gateway: string; apiKey: string }> {
  const kubectl = kubectlFor(cluster);
  await kubectl(["apply", "-f", join(ROOT, "manifests/10-namespaces.yaml")]);
  const apiKey = await installApiKey(kubectl);
  await kubectl(["apply", "-f", join(ROOT, "manifests")]);
  await kubectl(["apply", "-f", join(ROOT, "manifests/examples/sandbox-pool.yaml")]);
  await kubectl(["-n", SYSTEM_NS, "wait", "--for=condition=Available", "deploy", "--all", "--timeout=180s"]);
  await kubectl([
    "-n",
    SANDBOX_NS,
    "wait",
    "--for=condition=Ready",
    "sandboxpool",
    "--all",
    "--timeout=180s",
  ]);
  const ip = await kubectl([
    ...["-n", SYSTEM_NS, "get", "pods", "-l", "app.kubernetes.io/component=gateway"],
    ...["--field-selector=status.phase=Running", "-o", "jsonpath={.items[0].status.podIP}"],
  ]);
  return { gateway: `http://${ip}:8080`, apiKey };
}
