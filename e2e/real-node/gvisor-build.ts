/**
 * gVisor for the real node: `runsc` and `containerd-shim-runsc-v1` built from the gVisor Go module and
 * cached outside the repo (like the kubelet), keyed by the module version and the patch below.
 *
 * One change is applied at build time, to a copy of the module taken from the Go module cache (nothing of
 * gVisor is committed here): the shim sets its own oom_score_adj to -999 and fails when it may not. This
 * machine withholds CAP_SYS_RESOURCE even from root, so that write always fails; the shim then runs with
 * its parent's score, exactly what containerd's `restrict_oom_score_adj` does for runc.
 *
 * Cold: the module download plus ~600 packages, 15-25 min on 2 shared cores. Run `bun
 * e2e/real-node/gvisor-build.ts` to build ahead of time.
 */
import { createHash } from "node:crypto";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { cacheRoot } from "../cluster/binaries";

export const GVISOR_MODULE = "gvisor.dev/gvisor";
export const GVISOR_VERSION = "v0.0.0-20260905035102-160fafc42237";

const PATCH = {
  file: "pkg/shim/v1/manager.go",
  from: `\tif err := sys.SetOOMScore(cmd.Process.Pid, oomScoreMax); err != nil {
\t\treturn shim.BootstrapParams{}, fmt.Errorf("failed to set OOM Score on shim: %w", err)
\t}
`,
  to: `\t// agentland: without CAP_SYS_RESOURCE the score cannot be lowered; keep the parent's.
\t_ = sys.SetOOMScore(cmd.Process.Pid, oomScoreMax)
`,
};

export interface GvisorBinaries {
  readonly runsc: string;
  readonly shim: string;
}

function goOut(args: string[], cwd?: string): string {
  const r = Bun.spawnSync(["go", ...args], { stdout: "pipe", stderr: "pipe", ...(cwd ? { cwd } : {}) });
  if (r.exitCode !== 0) throw new Error(`go ${args.join(" ")} failed: ${r.stderr.toString().trim()}`);
  return r.stdout.toString().trim();
}

function cacheKey(): string {
  return createHash("sha256")
    .update(`${GVISOR_MODULE}@${GVISOR_VERSION}\n${PATCH.file}\n${PATCH.from}\n${PATCH.to}`)
    .digest("hex")
    .slice(0, 16);
}

/** A writable copy of the module (the module cache is read-only and `go build -overlay` refuses it), patched. */
function patchedModule(log: (line: string) => void): string {
  const dir = join(cacheRoot(), "gvisor-module");
  const stamp = join(dir, ".agentland-key");
  if (existsSync(stamp) && readFileSync(stamp, "utf8") === cacheKey()) return dir;
  log(`downloading ${GVISOR_MODULE}@${GVISOR_VERSION} (module proxy)`);
  const src = JSON.parse(goOut(["mod", "download", "-json", `${GVISOR_MODULE}@${GVISOR_VERSION}`])) as {
    Dir: string;
  };
  rmSync(dir, { recursive: true, force: true });
  cpSync(src.Dir, dir, { recursive: true });
  // Module cache files are read-only; the copy must be writable to patch it and to update go.sum.
  Bun.spawnSync(["chmod", "-R", "u+w", dir]);
  const file = join(dir, PATCH.file);
  const text = readFileSync(file, "utf8");
  if (!text.includes(PATCH.from)) throw new Error(`gVisor patch does not apply to ${PATCH.file} any more`);
  writeFileSync(file, text.replace(PATCH.from, PATCH.to));
  writeFileSync(stamp, cacheKey());
  return dir;
}

/** Returns the cached gVisor binaries, building them first if needed (cold: tens of minutes). */
export async function ensureGvisor(log: (line: string) => void = console.error): Promise<GvisorBinaries> {
  const out = join(cacheRoot(), "bin", `gvisor-${GVISOR_VERSION.slice(-12)}-${cacheKey()}`);
  const bins = { runsc: join(out, "runsc"), shim: join(out, "containerd-shim-runsc-v1") };
  if (existsSync(bins.runsc) && existsSync(bins.shim)) return bins;
  const started = Date.now();
  const module = patchedModule(log);
  log(
    "building gVisor runsc + containerd-shim-runsc-v1 from the Go module (cold: 15-25 min; cached afterwards)",
  );
  const tmp = `${out}.partial-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  for (const [pkg, name] of [
    ["./shim", "containerd-shim-runsc-v1"],
    ["./runsc", "runsc"],
  ] as const) {
    const proc = Bun.spawn(
      ["go", "build", "-trimpath", "-mod=mod", "-ldflags", "-s -w", "-o", join(tmp, name), pkg],
      { cwd: module, stdout: "inherit", stderr: "pipe", env: { ...process.env, CGO_ENABLED: "0" } },
    );
    const [code, err] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
    if (code !== 0) throw new Error(`go build ${pkg} (gVisor) failed (exit ${code}):\n${err.slice(-4000)}`);
    chmodSync(join(tmp, name), 0o755);
    log(`  built ${name} after ${Math.round((Date.now() - started) / 1000)} s`);
  }
  rmSync(out, { recursive: true, force: true });
  renameSync(tmp, out);
  log(`gVisor built in ${Math.round((Date.now() - started) / 1000)} s`);
  return bins;
}

if (import.meta.main) {
  const bins = await ensureGvisor();
  console.log(JSON.stringify(bins));
}
