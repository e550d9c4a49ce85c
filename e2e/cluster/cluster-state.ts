/** Where a named local cluster lives and what `cluster up` records about it in `<dir>/cluster.json`. */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface ClusterInfo {
  readonly name: string;
  readonly dir: string;
  readonly server: string;
  /** Admin kubeconfig (client certificate in group system:masters). */
  readonly kubeconfig: string;
  /** Kubeconfig of the node identity `system:node:<nodeName>` (group system:nodes). */
  readonly nodeKubeconfig: string;
  readonly caCert: string;
  readonly nodeName: string;
  readonly binDir: string;
  readonly pids: Readonly<Record<string, number>>;
  readonly startedAt: string;
}

export function clusterDir(name: string): string {
  return join(process.env["AGENTLAND_CLUSTERS_ROOT"] ?? join(tmpdir(), "agentland-clusters"), name);
}

export function readClusterInfo(dir: string): ClusterInfo | undefined {
  const file = join(dir, "cluster.json");
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as ClusterInfo) : undefined;
}

export function writeClusterInfo(info: ClusterInfo): void {
  writeFileSync(join(info.dir, "cluster.json"), `${JSON.stringify(info, null, 2)}\n`);
}
