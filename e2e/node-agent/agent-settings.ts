/**
 * The node agent's settings, parsed once from its flags (and the cluster's `cluster.json`):
 *   --cluster-dir=DIR        required; the cluster `bun run cluster up` made
 *   --node-name=NAME         default: the cluster's node (its node credential is in cluster.json)
 *   --kubeconfig=PATH        node credential; default cluster.json `nodeKubeconfig`
 *   --admin-kubeconfig=PATH  for cluster-wide Service/Pod watches; default cluster.json `kubeconfig`
 *   --state-dir=DIR          pod directories and logs; default <cluster-dir>/nodes/<node-name>
 *   --pod-network=127.N.0.0/16  default: derived from the cluster and node name
 *   --image-map=FILE[,FILE]  extra image rules (JSON {"rules":[...]}), tried before the built-in ones
 *   --agentland=auto|source|compiled   how agentland/* images run (see agentland-executable.ts)
 *   --crash-backoff=10s --crash-backoff-max=300s --volume-resync=10s --lease-renew=10s
 *   --node-status=60s --shutdown-grace=10s --host-ip=127.0.0.1
 *   --cpu=N --memory=Q      advertised capacity (default: overcommitted, see node-registration.ts)
 */
import { dirname, join } from "node:path";
import * as v from "valibot";
import { parseArgv } from "../../src/config/argv";
import { durationMs } from "../../src/config/settings";
import { KUBE_VERSION } from "../cluster/binaries";
import { readClusterInfo } from "../cluster/cluster-state";
import type { AgentlandBuild } from "./agentland-executable";
import { type PodNetwork, parsePodNetwork, podNetworkFor } from "./pod-network";

export interface AgentSettings {
  readonly clusterDir: string;
  readonly clusterName: string;
  readonly nodeName: string;
  readonly nodeKubeconfig: string;
  readonly adminKubeconfig: string;
  readonly stateDir: string;
  readonly network: PodNetwork;
  readonly imageRules: readonly string[];
  readonly agentlandBuild: AgentlandBuild;
  readonly crashBackoffMs: number;
  readonly crashBackoffMaxMs: number;
  readonly volumeResyncMs: number;
  readonly leaseRenewMs: number;
  readonly nodeStatusMs: number;
  readonly shutdownGraceMs: number;
  readonly hostIP: string;
  /** Advertised CPU and memory (quantities); undefined = node-registration.ts defaults. */
  readonly cpu: string | undefined;
  readonly memory: string | undefined;
  readonly kubeletVersion: string;
  readonly repo: string;
  readonly bun: string;
}

const flagsSchema = v.object({
  "cluster-dir": v.pipe(v.string(), v.nonEmpty()),
  "node-name": v.optional(
    v.pipe(v.string(), v.regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, "must be a DNS subdomain")),
  ),
  kubeconfig: v.optional(v.string()),
  "admin-kubeconfig": v.optional(v.string()),
  "state-dir": v.optional(v.string()),
  "pod-network": v.optional(v.string()),
  "image-map": v.optional(v.string()),
  agentland: v.optional(v.picklist(["auto", "source", "compiled"]), "auto"),
  "crash-backoff": durationMs("10s"),
  "crash-backoff-max": durationMs("300s"),
  "volume-resync": durationMs("10s"),
  "lease-renew": durationMs("10s"),
  "node-status": durationMs("60s"),
  "shutdown-grace": durationMs("10s"),
  "host-ip": v.optional(v.pipe(v.string(), v.ip()), "127.0.0.1"),
  cpu: v.optional(v.pipe(v.string(), v.regex(/^\d+(\.\d+)?m?$/, "must be a CPU quantity such as 8 or 500m"))),
  memory: v.optional(
    v.pipe(v.string(), v.regex(/^\d+(Ki|Mi|Gi|Ti)?$/, "must be a memory quantity such as 16Gi")),
  ),
});

export class SettingsError extends Error {
  override readonly name = "SettingsError";
}

export function parseAgentSettings(argv: readonly string[], runtime: { bun: string }): AgentSettings {
  const { flags, positionals } = parseArgv(argv);
  if (positionals.length > 0) throw new SettingsError(`unexpected argument "${positionals[0]}"`);
  for (const name of Object.keys(flags)) {
    if (!(name in flagsSchema.entries)) throw new SettingsError(`unknown flag --${name}`);
  }
  const parsed = v.safeParse(flagsSchema, flags);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    throw new SettingsError(`--${issue.path?.map((p) => String(p.key)).join(".") ?? ""}: ${issue.message}`);
  }
  const f = parsed.output;
  const info = readClusterInfo(f["cluster-dir"]);
  if (!info)
    throw new SettingsError(`no cluster.json in ${f["cluster-dir"]} (run \`bun run cluster up\` first)`);
  const nodeName = f["node-name"] ?? info.nodeName;
  let network: PodNetwork;
  try {
    network = f["pod-network"] ? parsePodNetwork(f["pod-network"]) : podNetworkFor(info.name, nodeName);
  } catch (err) {
    throw new SettingsError(`--pod-network: ${(err as Error).message}`);
  }
  return {
    clusterDir: info.dir,
    clusterName: info.name,
    nodeName,
    nodeKubeconfig: f.kubeconfig ?? info.nodeKubeconfig,
    adminKubeconfig: f["admin-kubeconfig"] ?? info.kubeconfig,
    stateDir: f["state-dir"] ?? join(info.dir, "nodes", nodeName),
    network,
    imageRules: f["image-map"] ? f["image-map"].split(",").filter(Boolean) : [],
    agentlandBuild: f.agentland,
    crashBackoffMs: f["crash-backoff"],
    crashBackoffMaxMs: f["crash-backoff-max"],
    volumeResyncMs: f["volume-resync"],
    leaseRenewMs: f["lease-renew"],
    nodeStatusMs: f["node-status"],
    shutdownGraceMs: f["shutdown-grace"],
    hostIP: f["host-ip"],
    cpu: f.cpu,
    memory: f.memory,
    kubeletVersion: KUBE_VERSION,
    repo: dirname(dirname(import.meta.dir)),
    bun: runtime.bun,
  };
}
