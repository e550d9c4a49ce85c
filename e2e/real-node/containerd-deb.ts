/**
 * containerd 1.7 for the real node, from Debian trixie's package, unpacked into the cache (nothing is
 * installed on the machine). Bookworm's containerd 1.6 runs runc but cannot start today's gVisor shim: the
 * shim answers containerd with the JSON bootstrap protocol (v2) that only containerd 1.7+ reads.
 *
 * The package is fetched with apt itself, pointed at private lists and a private cache, so the machine's
 * apt configuration is untouched and trixie's current point release is found by name. Cold: ~15 MB of
 * package lists and a 33 MB .deb (under a minute here); warm: a directory check.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cacheRoot } from "../cluster/binaries";

const SUITE = "trixie";

export interface Containerd {
  /** The directory holding containerd, ctr and containerd-shim-runc-v2 of the same release. */
  readonly binDir: string;
  readonly containerd: string;
  readonly ctr: string;
  readonly version: string;
}

function run(argv: string[], cwd?: string): string {
  const r = Bun.spawnSync(argv, {
    stdout: "pipe",
    stderr: "pipe",
    timeout: 600_000,
    ...(cwd ? { cwd } : {}),
  });
  if (r.exitCode !== 0)
    throw new Error(`${argv.join(" ")} failed: ${r.stderr.toString().trim().slice(-2000)}`);
  return r.stdout.toString();
}

function fromDir(dir: string, version: string): Containerd {
  const binDir = join(dir, "usr/bin");
  return { binDir, containerd: join(binDir, "containerd"), ctr: join(binDir, "ctr"), version };
}

/** The cached unpacked package, if any (the newest by name). */
function cached(root: string): Containerd | undefined {
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((d) => !d.includes(".partial") && existsSync(join(root, d, "usr/bin/containerd")))
    .sort();
  const v = versions.at(-1);
  return v ? fromDir(join(root, v), v) : undefined;
}

export function ensureContainerd(log: (line: string) => void = console.error): Containerd {
  const root = join(cacheRoot(), `containerd-${SUITE}`);
  const have = cached(root);
  if (have) return have;
  const started = Date.now();
  log(`fetching containerd from Debian ${SUITE} (apt with private lists; cached afterwards)`);
  const apt = join(root, ".apt");
  for (const d of ["lists/partial", "archives/partial", "etc"]) mkdirSync(join(apt, d), { recursive: true });
  writeFileSync(join(apt, "etc/sources.list"), `deb http://deb.debian.org/debian ${SUITE} main\n`);
  writeFileSync(join(apt, "etc/status"), "");
  const opts = [
    `-o=Dir::Etc::SourceList=${join(apt, "etc/sources.list")}`,
    "-o=Dir::Etc::SourceParts=/dev/null",
    `-o=Dir::State::Lists=${join(apt, "lists")}`,
    `-o=Dir::Cache=${apt}`,
    `-o=Dir::State::status=${join(apt, "etc/status")}`,
    "-o=Debug::NoLocking=1",
    "-o=APT::Sandbox::User=root",
  ];
  run(["apt-get", ...opts, "update"]);
  run(["apt-get", ...opts, "download", "containerd"], apt);
  const deb = readdirSync(apt).find((f) => f.startsWith("containerd_") && f.endsWith(".deb"));
  if (!deb) throw new Error(`apt-get download containerd (${SUITE}) left no .deb in ${apt}`);
  const version = (deb.split("_")[1] ?? "unknown").replace(/%7e/gi, "~");
  const tmp = join(root, `${version}.partial-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  run(["dpkg-deb", "-x", join(apt, deb), tmp]);
  renameSync(tmp, join(root, version));
  rmSync(apt, { recursive: true, force: true });
  log(`containerd ${version} unpacked in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return fromDir(join(root, version), version);
}

if (import.meta.main) console.log(JSON.stringify(ensureContainerd()));
