/**
 * Writes the files of a Secret/ConfigMap/downwardAPI/projected volume the way the kubelet's
 * AtomicWriter does, so readers never see a half-updated set and file watchers see one change:
 *   <dir>/..<timestamp>/<files>   the payload
 *   <dir>/..data -> ..<timestamp>  switched with one rename()
 *   <dir>/<name> -> ..data/<name>  one symlink per top-level entry
 * Symlinks are relative, so they resolve inside the container, where <dir> sits at the mountPath.
 */
import { createHash } from "node:crypto";
import {
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";

export interface PayloadFile {
  readonly content: Uint8Array | string;
  readonly mode: number;
}

/** Relative path inside the volume → file. */
export type Payload = ReadonlyMap<string, PayloadFile>;

export class PayloadError extends Error {
  override readonly name = "PayloadError";
}

export function payloadDigest(payload: Payload): string {
  const h = createHash("sha256");
  for (const key of [...payload.keys()].sort()) {
    const f = payload.get(key) as PayloadFile;
    h.update(`${key}\0${f.mode}\0`).update(f.content).update("\0");
  }
  return h.digest("hex");
}

function checkPath(rel: string): void {
  const parts = rel.split("/");
  if (rel.startsWith("/") || parts.some((p) => p === ".." || p === "") || parts[0]?.startsWith("..")) {
    throw new PayloadError(`invalid path "${rel}" in volume payload`);
  }
}

/** Writes `payload` into `dir` (created if needed); returns false when it already held exactly that. */
export function writePayload(
  dir: string,
  payload: Payload,
  opts: { gid?: number; now?: Date } = {},
): boolean {
  for (const rel of payload.keys()) checkPath(rel);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const digest = payloadDigest(payload);
  const dataLink = join(dir, "..data");
  const current = existsSync(dataLink) ? readlinkSync(dataLink) : undefined;
  if (current?.endsWith(`_${digest.slice(0, 12)}`)) return false;

  // e.g. `..2026_11_28_16_40_00_123_0123456789ab`: when, and which content.
  const stamp = (opts.now ?? new Date()).toISOString().replace(/[-:.TZ]/g, "_");
  const tsName = `..${stamp}${digest.slice(0, 12)}`;
  const tsDir = join(dir, tsName);
  mkdirSync(tsDir, { mode: 0o755 });
  for (const [rel, file] of payload) {
    const path = join(tsDir, rel);
    mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
    writeFileSync(path, file.content, { mode: file.mode });
    if (opts.gid !== undefined) chownSync(path, 0, opts.gid);
  }
  const tmpLink = join(dir, "..data_tmp");
  rmSync(tmpLink, { force: true });
  symlinkSync(tsName, tmpLink);
  renameSync(tmpLink, dataLink);

  const tops = new Set([...payload.keys()].map((rel) => rel.split("/")[0] as string));
  for (const entry of readdirSync(dir)) {
    if (entry.startsWith("..")) {
      if (entry !== "..data" && entry !== tsName) rmSync(join(dir, entry), { recursive: true, force: true });
    } else if (!tops.has(entry)) rmSync(join(dir, entry), { recursive: true, force: true });
  }
  for (const top of tops) {
    if (!existsSync(join(dir, top))) symlinkSync(join("..data", top), join(dir, top));
  }
  return true;
}
