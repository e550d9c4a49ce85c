/**
 * Debian packages as image content: `apt-get download` fetches the .deb files of this machine's Debian
 * release (the same glibc the compiled executable was linked against) into a cache, and `dpkg -x`
 * unpacks them into a staging folder. No package is installed on the machine and no maintainer script
 * runs; the image gets exactly the files the packages ship, then the recipe trims what it does not need.
 */
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";

function run(argv: string[], cwd?: string): string {
  const r = Bun.spawnSync(argv, { ...(cwd ? { cwd } : {}), stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) {
    throw new Error(`${argv.join(" ")} failed (exit ${r.exitCode}): ${r.stderr.toString().trim()}`);
  }
  return r.stdout.toString();
}

/** The .deb file of each package in `cacheDir`, downloading the missing ones (the candidate version). */
export function downloadDebs(packages: readonly string[], cacheDir: string): string[] {
  mkdirSync(cacheDir, { recursive: true });
  const files = readdirSync(cacheDir);
  const find = (pkg: string) => files.find((f) => f.startsWith(`${pkg}_`) && f.endsWith(".deb"));
  const missing = packages.filter((p) => find(p) === undefined);
  if (missing.length > 0) {
    try {
      run(["apt-get", "download", ...missing], cacheDir);
    } catch {
      // A fresh machine may have no package lists yet (or lists older than the archive).
      run(["apt-get", "update", "-qq"]);
      run(["apt-get", "download", ...missing], cacheDir);
    }
    files.splice(0, files.length, ...readdirSync(cacheDir));
  }
  return packages.map((p) => {
    const f = find(p);
    if (!f) throw new Error(`apt-get download ${p} left no .deb in ${cacheDir}`);
    return join(cacheDir, f);
  });
}

export function extractDebs(debs: readonly string[], into: string): void {
  mkdirSync(into, { recursive: true });
  for (const deb of debs) {
    if (!existsSync(deb)) throw new Error(`missing ${deb}`);
    run(["dpkg-deb", "-x", deb, into]);
  }
}
