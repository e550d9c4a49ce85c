/**
 * How the cluster launcher starts the node agent, and how it knows the node is up.
 *
 * Start: `nodeAgentArgv(clusterDir)` (after cluster.json is written). Ready: the Node named
 * `cluster.json.nodeName` has condition Ready=True — the agent sets it once it registered the Node and
 * its pod watch has synced; `isNodeReady(node)` checks an object from `GET /api/v1/nodes/<name>`.
 * Stop: SIGTERM; within ~12 s the agent has stopped every pod process, removed pod directories,
 * released pod IPs, marked the Node NotReady and exited 0.
 */
import { join } from "node:path";
import type { Node } from "./pod-types";

export function nodeAgentArgv(clusterDir: string, extraFlags: readonly string[] = []): string[] {
  return [process.execPath, join(import.meta.dir, "main.ts"), `--cluster-dir=${clusterDir}`, ...extraFlags];
}

export function isNodeReady(node: Pick<Node, "status"> | undefined): boolean {
  return node?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}
