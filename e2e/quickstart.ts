/**
 * Command A (`npm start`): brings agentland's local platform up on this machine and shows it working.
 * Today that is the real local control plane (plus the host-process node when it exists); later steps
 * (manifests, warm pool, a first code run) join here as their components land.
 */
import { join } from "node:path";
import { clusterUp } from "./cluster/control-plane";
import { ensureSystemPackages } from "./setup/system-packages";

const name = "dev";
await ensureSystemPackages();
console.error(
  "==> starting the local Kubernetes cluster (first run builds Kubernetes from source: 15-25 min)",
);
const info = await clusterUp({ name, log: (l) => console.error(`    ${l}`) });
const kubectl = join(info.binDir, "kubectl");
const shown = Bun.spawnSync([kubectl, `--kubeconfig=${info.kubeconfig}`, "get", "nodes,namespaces"], {
  stdout: "pipe",
  stderr: "pipe",
});
console.log(`
agentland local cluster "${name}" is up at ${info.server}

$ kubectl get nodes,namespaces
${shown.stdout.toString()}${shown.stderr.toString()}
Use it from your shell:
  eval "$(npm run --silent cluster env -- --name=${name})"
  kubectl get nodes,ns
Stop it (no process, mount or directory is left behind):
  npm run cluster down -- --name=${name}
`);
