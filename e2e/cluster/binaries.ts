/**
 * Builds the control-plane binaries from the official Go modules (wrapper modules beside this file) and
 * caches them outside the repo, keyed by the wrapper's go.mod + go.sum and the build flags. A warm call
 * costs a hash and a few stat()s; a cold build of Kubernetes takes 15-25 minutes on 2 cores and says so.
 */
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export const KUBE_VERSION = "v1.34.4";
export const ETCD_VERSION = "v3.6.16";

interface Recipe {
  readonly name: string;
  readonly module: string;
  readonly packages: readonly string[];
  readonly ldflags: string;
  readonly coldMinutes: string;
  /** Extra GOFLAGS (the kubelet's module copy completes its go.sum with -mod=mod). */
  readonly goflags?: string;
}

const versionFlags = (pkgs: string[], v: string) =>
  pkgs
    .flatMap((p) => [
      `-X ${p}.gitVersion=${v}`,
      `-X ${p}.gitMajor=1`,
      `-X ${p}.gitMinor=${v.split(".")[1]}`,
      `-X ${p}.gitTreeState=clean`,
      `-X ${p}.buildDate=1970-01-01T00:00:00Z`,
    ])
    .join(" ");

const RECIPES: readonly Recipe[] = [
  {
    name: "etcd",
    module: join(import.meta.dir, "etcd-build"),
    packages: ["."],
    ldflags: "-s -w",
    coldMinutes: "2-4",
  },
  {
    name: "kubernetes",
    module: join(import.meta.dir, "kube-build"),
    packages: ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl"].map(
      (c) => `k8s.io/kubernetes/cmd/${c}`,
    ),
    ldflags: `-s -w ${versionFlags(["k8s.io/component-base/version", "k8s.io/client-go/pkg/version"], KUBE_VERSION)}`,
    coldMinutes: "15-25",
  },
];

export interface Binaries {
  readonly dir: string;
  readonly etcd: string;
  readonly kubeApiserver: string;
  readonly kubeControllerManager: string;
  readonly kubeScheduler: string;
  readonly kubectl: string;
}

export function cacheRoot(): string {
  return join(process.env["XDG_CACHE_HOME"] ?? join(homedir(), ".cache"), "agentland");
}

function recipeKey(r: Recipe): string {
  const h = createHash("sha256");
  for (const f of ["go.mod", "go.sum", "main.go"]) {
    const p = join(r.module, f);
    if (existsSync(p)) h.update(readFileSync(p));
  }
  h.update(r.ldflags).update(r.packages.join(","));
  return h.digest("hex").slice(0, 16);
}

function outputsOf(r: Recipe): string[] {
  return r.name === "etcd" ? ["etcd"] : r.packages.map((p) => p.split("/").pop() as string);
}

async function build(r: Recipe, outDir: string, log: (line: string) => void): Promise<void> {
  const tmp = `${outDir}.partial-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  log(`building ${r.name} from Go modules (cold: ~${r.coldMinutes} min on 2 cores; cached afterwards)`);
  const started = Date.now();
  const args = [
    "build",
    "-v",
    "-trimpath",
    "-ldflags",
    r.ldflags,
    "-o",
    r.name === "etcd" ? join(tmp, "etcd") : `${tmp}/`,
    ...r.packages,
  ];
  const env = r.goflags
    ? { ...process.env, GOFLAGS: `${process.env["GOFLAGS"] ?? ""} ${r.goflags}`.trim() }
    : undefined;
  const proc = Bun.spawn(["go", ...args], {
    cwd: r.module,
    stdout: "inherit",
    stderr: "pipe",
    ...(env ? { env } : {}),
  });
  let compiled = 0;
  let lastReport = Date.now();
  const errors: string[] = [];
  const decoder = new TextDecoder();
  for await (const chunk of proc.stderr) {
    for (const line of decoder.decode(chunk).split("\n")) {
      if (line.trim() === "") continue;
      if (/^[\w.\-/]+$/.test(line.trim())) compiled++;
      else errors.push(line);
      if (Date.now() - lastReport > 30_000) {
        lastReport = Date.now();
        log(
          `  ${r.name}: ${compiled} packages compiled, ${Math.round((Date.now() - started) / 1000)} s elapsed`,
        );
      }
    }
  }
  const code = await proc.exited;
  if (code !== 0)
    throw new Error(`go build of ${r.name} failed (exit ${code}):\n${errors.slice(-40).join("\n")}`);
  rmSync(outDir, { recursive: true, force: true });
  renameSync(tmp, outDir);
  log(`built ${r.name} in ${Math.round((Date.now() - started) / 1000)} s (${compiled} packages)`);
}

/** Returns the cached binaries, building whatever is missing. */
export async function ensureBinaries(log: (line: string) => void = console.error): Promise<Binaries> {
  const dirs: Record<string, string> = {};
  for (const r of RECIPES) {
    const version = r.name === "etcd" ? ETCD_VERSION : KUBE_VERSION;
    const dir = join(cacheRoot(), "bin", `${r.name}-${version}-${recipeKey(r)}`);
    if (!outputsOf(r).every((o) => existsSync(join(dir, o)))) await build(r, dir, log);
    dirs[r.name] = dir;
  }
  const kube = dirs["kubernetes"] as string;
  return {
    dir: kube,
    etcd: join(dirs["etcd"] as string, "etcd"),
    kubeApiserver: join(kube, "kube-apiserver"),
    kubeControllerManager: join(kube, "kube-controller-manager"),
    kubeScheduler: join(kube, "kube-scheduler"),
    kubectl: join(kube, "kubectl"),
  };
}

/**
 * The kubelet of the real-node tier, from the same wrapper module and flags as the control plane. Its
 * packages need go.sum lines the control plane does not, so it builds in a copy of the module (go.sum
 * completed by -mod=mod) under its own cache entry: the control-plane binaries' key stays as it is.
 */
export async function ensureKubelet(log: (line: string) => void = console.error): Promise<string> {
  const base = RECIPES.find((r) => r.name === "kubernetes") as Recipe;
  const key = recipeKey({ ...base, packages: ["k8s.io/kubernetes/cmd/kubelet"] });
  const dir = join(cacheRoot(), "bin", `kubelet-${KUBE_VERSION}-${key}`);
  if (existsSync(join(dir, "kubelet"))) return join(dir, "kubelet");
  const module = join(cacheRoot(), "kubelet-module");
  mkdirSync(module, { recursive: true });
  for (const f of ["go.mod", "go.sum"]) copyFileSync(join(base.module, f), join(module, f));
  const recipe: Recipe = {
    ...base,
    name: "kubelet",
    module,
    packages: ["k8s.io/kubernetes/cmd/kubelet"],
    coldMinutes: "4-8",
    goflags: "-mod=mod",
  };
  await build(recipe, dir, log);
  return join(dir, "kubelet");
}
