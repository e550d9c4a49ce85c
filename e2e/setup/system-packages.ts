/**
 * Debian packages the platform's local harness needs. Checked by the command they provide; whatever is
 * missing is installed with apt-get (the machines run as root), so a fresh machine needs no manual step.
 */
export const SYSTEM_PACKAGES: ReadonlyArray<{ readonly command: string; readonly pkg: string }> = [
  { command: "openssl", pkg: "openssl" },
  { command: "bwrap", pkg: "bubblewrap" },
  { command: "unshare", pkg: "util-linux" },
  { command: "ip", pkg: "iproute2" },
  { command: "curl", pkg: "curl" },
  // The gateway benchmark's load generator.
  { command: "wrk", pkg: "wrk" },
  // The real node tier (e2e/real-node): container runtime, OCI runtimes, CNI plugins, the Service DNAT,
  // and gcc for the static pause program of the images built in e2e/images.
  { command: "containerd", pkg: "containerd" },
  { command: "runc", pkg: "runc" },
  { command: "runsc", pkg: "runsc" },
  { command: "/usr/lib/cni/bridge", pkg: "containernetworking-plugins" },
  { command: "iptables", pkg: "iptables" },
  { command: "gcc", pkg: "gcc" },
];

export function missingPackages(): string[] {
  return SYSTEM_PACKAGES.filter((p) => Bun.which(p.command) === null).map((p) => p.pkg);
}

export async function ensureSystemPackages(log: (line: string) => void = console.error): Promise<void> {
  const missing = missingPackages();
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`missing system packages: ${missing.join(" ")} (install them with apt-get as root)`);
  }
  log(`installing Debian packages: ${missing.join(" ")}`);
  for (const argv of [
    ["apt-get", "update", "-qq"],
    ["apt-get", "install", "-y", "-qq", "--no-install-recommends", ...missing],
  ]) {
    const r = Bun.spawnSync(argv, {
      stdout: "inherit",
      stderr: "inherit",
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
    if (r.exitCode !== 0) throw new Error(`${argv.join(" ")} failed with exit code ${r.exitCode}`);
  }
}
