/** Helpers for the integration tests of `src/api` (real kubectl against the real local apiserver). */
import { join } from "node:path";
import type { ClusterInfo } from "../../../e2e/cluster/cluster-state";
import { crdName } from "../crd/build-crd";
import { CRD_FILE_PREFIX } from "../crd/render-crds";
import { ALL_KINDS } from "../kinds";
import { MANIFESTS_DIR } from "../write-crds";

export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export type Kubectl = (
  args: readonly string[],
  opts?: { stdin?: string; as?: string },
) => Promise<KubectlResult>;

/** Real kubectl (the cluster's own 1.34 build) against `cluster` as its admin, or `--as` someone else. */
export function kubectlFor(cluster: ClusterInfo): Kubectl {
  return async (args, opts = {}) => {
    const argv = [join(cluster.binDir, "kubectl"), `--kubeconfig=${cluster.kubeconfig}`];
    if (opts.as) argv.push(`--as=${opts.as}`);
    const proc = Bun.spawn([...argv, ...args], {
      stdin: opts.stdin === undefined ? "ignore" : new TextEncoder().encode(opts.stdin),
      stdout: "pipe",
      stderr: "pipe",
      timeout: 60_000,
    });
    const [stdout, stderr, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    return { code, stdout, stderr };
  };
}

/** Applies the generated CRDs and waits until the apiserver serves them. Idempotent. */
export async function installCrds(kubectl: Kubectl): Promise<void> {
  const files = ALL_KINDS.map((k) => join(MANIFESTS_DIR, `${CRD_FILE_PREFIX}${k.names.plural}.yaml`));
  const applied = await kubectl(["apply", ...files.flatMap((f) => ["-f", f])]);
  if (applied.code !== 0) throw new Error(`applying the CRDs failed: ${applied.stderr}`);
  const names = ALL_KINDS.map((k) => `crd/${crdName(k)}`);
  const established = await kubectl(["wait", "--for=condition=Established", "--timeout=30s", ...names]);
  if (established.code !== 0) throw new Error(`CRDs not established: ${established.stderr}`);
}

/** Runs `fn` over `items` with at most `limit` at a time; results in input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
