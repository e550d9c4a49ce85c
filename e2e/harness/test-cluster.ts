/**
 * The shared real cluster of a test run. The test runner (`e2e/test-all.ts`) starts one cluster, points
 * AGENTLAND_CLUSTER_DIR at it and tears it down at the end; each test takes its own namespace.
 * Without a cluster this throws: integration tests fail loudly rather than skip.
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { type ClusterInfo, readClusterInfo } from "../cluster/cluster-state";

export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface TestCluster extends ClusterInfo {
  readonly kubectlPath: string;
  kubectl(
    args: readonly string[],
    opts?: { stdin?: string; as?: string; timeoutMs?: number },
  ): Promise<KubectlResult>;
  /** Creates a namespace with a unique name starting with `prefix`; returns its name. */
  createNamespace(prefix: string, opts?: { labels?: Record<string, string> }): Promise<string>;
}

let cached: TestCluster | undefined;

export function testCluster(): TestCluster {
  if (cached) return cached;
  const dir = process.env["AGENTLAND_CLUSTER_DIR"];
  const info = dir ? readClusterInfo(dir) : undefined;
  if (!dir || !info) {
    throw new Error(
      "this test needs the local Kubernetes cluster: run the whole suite with `npm test`, or " +
        '`bun run cluster up && eval "$(bun run cluster env)"` before `bun test`',
    );
  }
  const kubectlPath = join(info.binDir, "kubectl");
  const kubectl: TestCluster["kubectl"] = async (args, opts = {}) => {
    const argv = [
      kubectlPath,
      `--kubeconfig=${info.kubeconfig}`,
      ...(opts.as ? [`--as=${opts.as}`] : []),
      ...args,
    ];
    const proc = Bun.spawn(argv, {
      stdin: opts.stdin === undefined ? "ignore" : new TextEncoder().encode(opts.stdin),
      stdout: "pipe",
      stderr: "pipe",
      timeout: opts.timeoutMs ?? 60_000,
    });
    const [stdout, stderr, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    return { code, stdout, stderr };
  };
  const createNamespace: TestCluster["createNamespace"] = async (prefix, opts = {}) => {
    const name = `${prefix}-${randomBytes(4).toString("hex")}`.toLowerCase();
    const ns = { apiVersion: "v1", kind: "Namespace", metadata: { name, labels: opts.labels ?? {} } };
    const r = await kubectl(["create", "-f", "-"], { stdin: JSON.stringify(ns) });
    if (r.code !== 0) throw new Error(`creating namespace ${name} failed: ${r.stderr}`);
    return name;
  };
  cached = { ...info, kubectlPath, kubectl, createNamespace };
  return cached;
}
