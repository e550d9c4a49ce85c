/**
 * The bubblewrap command line that gives one container its own view of the machine:
 * - a private mount, PID, IPC and UTS namespace (hostname = the pod's), sharing the host network so
 *   the process can bind its loopback pod IP;
 * - the root is bubblewrap's own tmpfs with the host's top-level directories bound READ-ONLY into it
 *   (see root-layout.ts; a pod never writes the host). A "writable root" is that tmpfs: /tmp, /run and
 *   new paths are writable and private to the container, like an image's writable layer (in memory,
 *   and host directories such as /etc stay read-only); `readOnlyRootFilesystem` remounts it read-only,
 *   /tmp and /run included, so only volumes stay writable;
 * - fresh /dev and /proc, the pod's hosts file at /etc/hosts, volumes at their mountPaths (`readOnly`
 *   honoured), the termination-message file at its path;
 * - the user from `runAsUser`/`runAsGroup` set with setpriv once the mounts exist, capabilities
 *   dropped as `securityContext.capabilities` asks, no_new_privs when privilege escalation is off.
 * With --unshare-pid, bwrap stays PID 1 of the container and exits with the main process's status, and
 * the kernel then kills whatever the container left behind (like a pod sandbox going away).
 */

export interface SandboxMount {
  readonly hostPath: string;
  /** Already resolved through host symlinks (root-layout.ts `resolvePath`). */
  readonly containerPath: string;
  readonly readOnly: boolean;
}

export interface SandboxSpec {
  readonly bwrap: string;
  readonly setpriv: string;
  /** Root tree arguments from root-layout.ts `rootLayoutArgs`. */
  readonly layout: readonly string[];
  readonly hostname: string;
  readonly readOnlyRoot: boolean;
  readonly hostsFile: string;
  readonly mounts: readonly SandboxMount[];
  readonly workingDir?: string;
  readonly user?: { readonly uid: number; readonly gid: number; readonly groups: readonly number[] };
  /** Capabilities to drop (`ALL`, or names with or without `CAP_`) and to add. */
  readonly dropCaps: readonly string[];
  readonly addCaps: readonly string[];
  readonly noNewPrivileges: boolean;
  readonly argv: readonly string[];
}

const cap = (c: string) => `CAP_${c.toUpperCase().replace(/^CAP_/, "")}`;

export function sandboxArgv(spec: SandboxSpec): string[] {
  // fd 3 is where container-process.ts reads bwrap's report of the namespace's PID 1 (for nsenter).
  const a: string[] = [
    spec.bwrap,
    "--die-with-parent",
    "--info-fd",
    "3",
    "--unshare-pid",
    "--unshare-uts",
    "--unshare-ipc",
  ];
  a.push("--hostname", spec.hostname, "--dev", "/dev", "--proc", "/proc");
  a.push("--perms", "1777", "--dir", "/tmp", "--perms", "0755", "--dir", "/run");
  a.push(...spec.layout);
  a.push("--ro-bind", spec.hostsFile, "/etc/hosts");
  // Parents before children, so a volume mounted inside another volume's path lands on top of it.
  const mounts = [...spec.mounts].sort((x, y) => depth(x.containerPath) - depth(y.containerPath));
  for (const m of mounts) a.push(m.readOnly ? "--ro-bind" : "--bind", m.hostPath, m.containerPath);
  if (spec.readOnlyRoot) a.push("--remount-ro", "/");
  if (spec.workingDir) a.push("--chdir", spec.workingDir);
  const switchUser = spec.user !== undefined && spec.user.uid !== 0;
  // A non-root user ends up with no capabilities anyway, and setpriv needs them to switch.
  if (!switchUser) a.push(...capabilityArgs(spec.dropCaps, spec.addCaps));
  a.push("--");
  if (spec.user && switchUser) {
    const groups = spec.user.groups.length ? [`--groups=${spec.user.groups.join(",")}`] : ["--clear-groups"];
    a.push(spec.setpriv, `--reuid=${spec.user.uid}`, `--regid=${spec.user.gid}`, ...groups);
    if (spec.noNewPrivileges) a.push("--no-new-privs");
    a.push("--");
  }
  a.push(...spec.argv);
  return a;
}

function capabilityArgs(drop: readonly string[], add: readonly string[]): string[] {
  const out: string[] = [];
  if (drop.some((c) => c.toUpperCase() === "ALL")) out.push("--cap-drop", "ALL");
  else for (const c of drop) out.push("--cap-drop", cap(c));
  for (const c of add) out.push("--cap-add", cap(c));
  return out;
}

function depth(path: string): number {
  return path.split("/").filter(Boolean).length;
}
