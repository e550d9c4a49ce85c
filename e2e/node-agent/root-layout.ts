/**
 * The container's root directory tree for bubblewrap: host directories bound read-only into bwrap's
 * tmpfs root, split open where a mount point has to be created. A volume mounted at
 * /etc/agentland/api-keys needs /etc/agentland, which the host lacks and a read-only bind of /etc
 * cannot get; so /etc itself becomes a tmpfs directory holding a read-only bind of each host entry,
 * and the missing path is created beside them. Mount targets are first resolved through host symlinks
 * (/var/run → /run), because bwrap does not follow them when it makes mount points.
 */
import { lstatSync, readdirSync, readlinkSync } from "node:fs";
import { join, posix } from "node:path";

export type EntryKind = "dir" | "file" | "symlink";

/** Read access to the host tree; `root` is "/" except in tests. */
export interface HostTree {
  kind(path: string): EntryKind | undefined;
  readlink(path: string): string;
  readdir(path: string): string[];
}

export function hostTree(root = "/"): HostTree {
  const at = (p: string) => join(root, p);
  return {
    kind(path) {
      try {
        const st = lstatSync(at(path));
        return st.isSymbolicLink() ? "symlink" : st.isDirectory() ? "dir" : "file";
      } catch {
        return undefined;
      }
    },
    readlink: (path) => readlinkSync(at(path)),
    readdir: (path) => readdirSync(at(path)).sort(),
  };
}

/** Never bound from the host: made fresh per container (only the directory itself exists). */
const FRESH_TOP = new Set(["proc", "dev", "tmp", "run", "lost+found"]);

/** What exists at `path` in the container before its volumes are mounted. */
function containerKind(tree: HostTree, path: string): EntryKind | undefined {
  const top = path.split("/")[1] ?? "";
  if (FRESH_TOP.has(top)) return path === `/${top}` && top !== "lost+found" ? "dir" : undefined;
  return tree.kind(path);
}

/** Resolves host symlinks along an absolute container path (at most 40 hops, like the kernel). */
export function resolvePath(tree: HostTree, path: string): string {
  let parts = path.split("/").filter(Boolean);
  let done: string[] = [];
  for (let hops = 0; parts.length > 0; ) {
    const [head, ...rest] = parts as [string, ...string[]];
    const candidate = `/${[...done, head].join("/")}`;
    if (containerKind(tree, candidate) === "symlink" && hops++ < 40) {
      const target = tree.readlink(candidate);
      const base = target.startsWith("/") ? target : posix.join(`/${done.join("/")}`, target);
      parts = [...base.split("/").filter(Boolean), ...rest];
      done = [];
      continue;
    }
    done.push(head);
    parts = rest;
  }
  return `/${done.join("/")}`;
}

/** `/a/b/c` → [`/a`, `/a/b`, `/a/b/c`]. */
function prefixes(path: string): string[] {
  const parts = path.split("/").filter(Boolean);
  return parts.map((_, i) => `/${parts.slice(0, i + 1).join("/")}`);
}

/**
 * bwrap arguments that build the root (`--ro-bind`, `--symlink`, `--dir`), given the resolved paths
 * the container's mounts will be placed at (see {@link resolvePath}).
 */
export function rootLayoutArgs(tree: HostTree, mountTargets: readonly string[]): string[] {
  const split = new Set<string>();
  const create: string[] = [];
  for (const target of mountTargets) {
    const chain = prefixes(target);
    const firstMissing = chain.findIndex((p) => containerKind(tree, p) === undefined);
    if (firstMissing === -1) continue;
    // Host directories above the first missing entry must become writable tmpfs directories.
    for (const p of chain.slice(0, firstMissing)) if (!FRESH_TOP.has(p.slice(1))) split.add(p);
    // Missing directories down to the mount point's parent get 0755 (bwrap would make them 0700).
    for (const p of chain.slice(firstMissing, -1)) if (!create.includes(p)) create.push(p);
  }
  const args: string[] = [];
  const visit = (dir: string) => {
    for (const name of tree.readdir(dir)) {
      const path = posix.join(dir, name);
      if (dir === "/" && FRESH_TOP.has(name)) continue;
      const kind = tree.kind(path);
      if (kind === "symlink") args.push("--symlink", tree.readlink(path), path);
      else if (kind === "dir" && split.has(path)) {
        args.push("--perms", "0755", "--dir", path);
        visit(path);
      } else if (kind !== undefined) args.push("--ro-bind", path, path);
    }
  };
  visit("/");
  for (const p of create) args.push("--perms", "0755", "--dir", p);
  return args;
}
