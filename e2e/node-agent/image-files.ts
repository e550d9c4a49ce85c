/**
 * The "image contents" of mapped images — this checkout and the Bun executable — appear inside every
 * container at a fixed private path, `/.agentland/repo` and `/.agentland/bin/bun`. Image commands are
 * rewritten to those paths, so a volume mounted anywhere a pod likes (even /work or /usr/local) can
 * never hide the program the container runs.
 */
import { relative } from "node:path";
import type { SandboxMount } from "./sandbox-argv";

export const IMAGE_REPO = "/.agentland/repo";
export const IMAGE_BUN = "/.agentland/bin/bun";

export interface ImageFiles {
  readonly repo: string;
  readonly bun: string;
}

const inside = (root: string, path: string) => path === root || path.startsWith(`${root}/`);

export function imageFileMounts(files: ImageFiles): SandboxMount[] {
  const mounts = [{ hostPath: files.repo, containerPath: IMAGE_REPO, readOnly: true }];
  if (!inside(files.repo, files.bun))
    mounts.push({ hostPath: files.bun, containerPath: IMAGE_BUN, readOnly: true });
  return mounts;
}

/** Rewrites a host path of the image files (or an argument starting with one) to where the container sees it. */
export function toContainerPath(files: ImageFiles, arg: string): string {
  if (inside(files.repo, arg)) {
    const rel = relative(files.repo, arg);
    return rel ? `${IMAGE_REPO}/${rel}` : IMAGE_REPO;
  }
  return arg === files.bun ? IMAGE_BUN : arg;
}
