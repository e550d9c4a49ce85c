/**
 * `bun run cluster up | down | status | env [--name=NAME]` — the local Kubernetes cluster for development
 * and tests. `up` builds the binaries on first use (many minutes, with progress), starts everything and
 * returns; the daemons keep running until `down`.
 */
import { existsSync } from "node:fs";
import { realNodeDown, realNodeExists } from "../real-node/real-node";
import { realNodeCommand } from "../real-node/real-node-cli";
import { clusterDir, readClusterInfo } from "./cluster-state";
import { clusterDown, clusterUp } from "./control-plane";
import { isAlive } from "./processes";

const USAGE =
  "usage: bun run cluster <up|down|status|env> [--name=NAME] (default name: dev)\n" +
  "       bun run cluster node-real <up|down> [--name=NAME]   (a real kubelet + containerd node, see e2e/real-node)";

function flag(args: readonly string[], name: string): string | undefined {
  const hit = args.find((a) => a.startsWith(`--${name}=`));
  return hit?.slice(name.length + 3);
}

async function main(args: readonly string[]): Promise<number> {
  const [command] = args;
  const name = flag(args, "name") ?? "dev";
  if (!/^[a-z0-9-]{1,40}$/.test(name)) {
    console.error(`--name must be 1-40 lowercase letters, digits or dashes, got "${name}"`);
    return 2;
  }
  switch (command) {
    case "up": {
      const info = await clusterUp({ name, withNode: !args.includes("--no-node") });
      console.log(`cluster "${name}" is up: ${info.server}`);
      console.log(`use it:   eval "$(bun run cluster env --name=${name})" && kubectl get nodes,ns`);
      console.log(`stop it:  bun run cluster down --name=${name}`);
      return 0;
    }
    case "down":
      // A real node first: its containers must stop while the apiserver still answers.
      if (realNodeExists(name)) await realNodeDown(readClusterInfo(clusterDir(name)), name);
      await clusterDown(name);
      console.log(`cluster "${name}" is down`);
      return 0;
    case "status":
      return status(name);
    case "env": {
      const info = readClusterInfo(clusterDir(name));
      if (!info) return notRunning(name);
      console.log(`export KUBECONFIG=${info.kubeconfig}`);
      console.log(`export AGENTLAND_CLUSTER_DIR=${info.dir}`);
      console.log(`export PATH=${info.binDir}:$PATH`);
      return 0;
    }
    case "node-real":
      return realNodeCommand(args[1], name, { taint: !args.includes("--no-taint") });
    default:
      console.error(USAGE);
      return 2;
  }
}

function status(name: string): number {
  const dir = clusterDir(name);
  const info = readClusterInfo(dir);
  if (!info) return notRunning(name);
  let healthy = true;
  for (const [component, pid] of Object.entries(info.pids)) {
    const alive = isAlive(pid);
    healthy &&= alive;
    console.log(`${component.padEnd(24)} pid ${String(pid).padEnd(8)} ${alive ? "running" : "NOT RUNNING"}`);
  }
  console.log(`server ${info.server}  kubeconfig ${info.kubeconfig}  started ${info.startedAt}`);
  return healthy ? 0 : 1;
}

function notRunning(name: string): number {
  console.error(
    `cluster "${name}" is not up${existsSync(clusterDir(name)) ? " (stale directory; run down)" : ""}`,
  );
  return 1;
}

process.exit(await main(process.argv.slice(2)));
