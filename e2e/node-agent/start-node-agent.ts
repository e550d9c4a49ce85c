/**
 * How the cluster launcher starts the node agent, and how it knows the node is up.
 *
 * Start: `nodeAgentArgv(clusterDir)` (after cluster.json is written). Ready: the Node named
 * `cluster.json.nodeName` has condition Ready=True and none of the not-ready/unreachable taints (the
 * agent registers it Ready once its pod watch has synced; after a restart the node lifecycle
 * controller needs a few seconds to lift the taints it set meanwhile). `isNodeReady(node)` checks an
 * object from `GET /api/v1/nodes/<name>`. The agent logs `{"msg":"node agent ready"}` at that point.
 * Stop: SIGTERM; within ~12 s the agent has stopped every pod process, removed pod directories,
 * released pod IPs, marked the Node NotReady and exited 0.
 */
import { join } from "node:path";
import { isNodeSchedulable } from "./node-registration";
import type { Node } from "./pod-types";

export function nodeAgentArgv(clusterDir: string, extraFlags: readonly string[] = []): string[] {
  return [process.execPath, join(import.meta.dir, "main.ts"), `--cluster-dir=${clusterDir}`, ...extraFlags];
}

export function isNodeReady(node: Pick<Node, "status" | "spec"> | undefined): boolean {
  return isNodeSchedulable(node);
}
