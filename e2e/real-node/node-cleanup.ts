/**
 * Removes everything a real node of this name may have left, whether it stopped cleanly or not: its
 * daemons (kubelet, containerd, shims), every process in its cgroup subtree (containers, gVisor sandboxes),
 * the network namespaces that hold addresses of its pod subnet, its mounts, cgroups, bridge, iptables
 * chain and directories. Used before every start and by `down`; safe to run when nothing is there.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { processesMentioning, stopProcesses } from "../cluster/processes";
import type { NodeLayout } from "./node-layout";
import { networkDown } from "./node-network";

const CGROUP_V1 = "/sys/fs/cgroup";

function sh(argv: string[]): boolean {
  return Bun.spawnSync(argv, { stdout: "ignore", stderr: "ignore" }).exitCode === 0;
}

/** Each v1 hierarchy's copy of the node's cgroup root (and the unified one, if mounted). */
function cgroupRoots(l: NodeLayout): string[] {
  if (!existsSync(CGROUP_V1)) return [];
  return readdirSync(CGROUP_V1)
    .map((h) => join(CGROUP_V1, h, l.cgroupRoot))
    .filter((p) => existsSync(p));
}

function pidsUnder(dir: string): number[] {
  const pids: number[] = [];
  const walk = (d: string) => {
    try {
      for (const line of readFileSync(join(d, "cgroup.procs"), "utf8").split("\n")) {
        if (line !== "") pids.push(Number(line));
      }
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name));
    } catch {
      // removed while we walked
    }
  };
  walk(dir);
  return pids;
}

function removeCgroupTree(dir: string): void {
  try {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) removeCgroupTree(join(dir, e.name));
    }
    rmSync(dir, { recursive: false, force: true });
  } catch {
    sh(["rmdir", dir]);
  }
}

async function killCgroupProcesses(l: NodeLayout): Promise<void> {
  for (let round = 0; round < 50; round++) {
    const pids = [...new Set(cgroupRoots(l).flatMap(pidsUnder))];
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone already
      }
    }
    await Bun.sleep(100);
  }
}

/** Mount points under `prefixes`, deepest first. */
function mountsUnder(prefixes: readonly string[]): string[] {
  const points = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((line) => line.split(" ")[4] ?? "")
    .map((p) => p.replace(/\\040/g, " "))
    .filter((p) => prefixes.some((pre) => p === pre || p.startsWith(`${pre}/`)));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

/** Network namespaces created by containerd for this node's pods: they hold an address of its subnet. */
function staleNetns(l: NodeLayout): string[] {
  const dir = "/run/netns";
  if (!existsSync(dir)) return [];
  const prefix = l.podSubnet.replace(/0\/24$/, "");
  return readdirSync(dir)
    .filter((n) => n.startsWith("cni-"))
    .filter((n) => {
      const r = Bun.spawnSync(["ip", "-n", n, "-4", "-o", "addr"], { stdout: "pipe", stderr: "ignore" });
      return r.stdout.toString().includes(` ${prefix}`);
    })
    .filter((n) => {
      try {
        return statSync(join(dir, n)).isFile();
      } catch {
        return false;
      }
    });
}

export async function cleanupNode(l: NodeLayout): Promise<void> {
  await stopProcesses(processesMentioning(l.base), 10_000);
  await stopProcesses(processesMentioning(l.run), 5_000);
  await killCgroupProcesses(l);
  for (const n of staleNetns(l)) {
    sh(["umount", "-l", join("/run/netns", n)]);
    rmSync(join("/run/netns", n), { force: true });
  }
  for (const m of mountsUnder([l.base, l.run])) sh(["umount", "-l", m]);
  for (const root of cgroupRoots(l)) removeCgroupTree(root);
  networkDown(l);
  await removeNodeDirs([l.base, l.run]);
}

/**
 * Unmounts what is left under the node's directories and removes them. A gVisor sandbox torn down with the
 * node can still mount (its `null-netns`) after the first unmount pass, so a busy directory is unmounted
 * and tried again a few times before giving up.
 */
async function removeNodeDirs(dirs: readonly string[]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    for (const m of mountsUnder(dirs)) sh(["umount", "-l", m]);
    try {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
      return;
    } catch (err) {
      if (attempt >= 10 || (err as NodeJS.ErrnoException).code !== "EBUSY") throw err;
      await Bun.sleep(300);
    }
  }
}
