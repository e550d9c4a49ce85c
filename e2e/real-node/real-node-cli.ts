/** `bun run cluster node-real up|down [--name=NAME]`: joins (or removes) the real node of a running cluster. */
import { clusterDir, readClusterInfo } from "../cluster/cluster-state";
import { realNodeDown, realNodeUp } from "./real-node";

export async function realNodeCommand(
  action: string | undefined,
  name: string,
  opts: { taint: boolean } = { taint: true },
): Promise<number> {
  const info = readClusterInfo(clusterDir(name));
  if (action === "up") {
    if (!info) {
      console.error(`cluster "${name}" is not up: run \`bun run cluster up --name=${name}\` first`);
      return 1;
    }
    const node = await realNodeUp(info, console.error, { taint: opts.taint });
    console.log(
      `real node ${node.nodeName} is Ready (label ${node.layout.label}, taint ${node.layout.taintKey})`,
    );
    console.log(`remove it: bun run cluster node-real down --name=${name} (before cluster down)`);
    return 0;
  }
  if (action === "down") {
    await realNodeDown(info, name);
    console.log(`real node of cluster "${name}" is down`);
    return 0;
  }
  console.error("usage: bun run cluster node-real <up|down> [--name=NAME]");
  return 2;
}
