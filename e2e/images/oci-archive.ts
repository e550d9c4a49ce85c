/**
 * Writes an OCI image archive (an OCI image layout in a tar file) from staged root-filesystem folders,
 * without Docker or a registry: one uncompressed tar layer per folder, an image config, a manifest and an
 * index whose annotations carry the full image name, which `ctr -n k8s.io images import` registers as is.
 * Layers are tarred with GNU tar in a reproducible way (sorted names, mtime 0, numeric owners), so the same
 * inputs give the same digests.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

export interface ImageConfig {
  readonly entrypoint?: readonly string[];
  readonly cmd?: readonly string[];
  readonly env?: readonly string[];
  readonly user?: string;
  readonly workingDir?: string;
  readonly exposedPorts?: readonly number[];
}

export interface OciImageSpec {
  /** Fully qualified name, e.g. `docker.io/agentland/control-plane:0.1.0` (what kubelet asks containerd for). */
  readonly name: string;
  /** Staged root-filesystem folders, lowest layer first. */
  readonly layers: readonly string[];
  readonly config: ImageConfig;
}

const TAR_FLAGS = ["--sort=name", "--mtime=@0", "--numeric-owner", "--format=posix"];
const PAX_CLEAN = "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime";

function run(argv: string[]): void {
  const r = Bun.spawnSync(argv, { stdout: "ignore", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${argv.slice(0, 3).join(" ")} failed: ${r.stderr.toString()}`);
}

function sha256File(path: string): string {
  const h = createHash("sha256");
  h.update(readFileSync(path));
  return h.digest("hex");
}

interface Blob {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
}

/** Writes `data` (or moves the file at `from`) into blobs/sha256/ and returns its descriptor. */
function putBlob(layout: string, mediaType: string, data: Uint8Array | { from: string }): Blob {
  const blobs = join(layout, "blobs", "sha256");
  mkdirSync(blobs, { recursive: true });
  if (data instanceof Uint8Array) {
    const digest = createHash("sha256").update(data).digest("hex");
    writeFileSync(join(blobs, digest), data);
    return { mediaType, digest: `sha256:${digest}`, size: data.byteLength };
  }
  const digest = sha256File(data.from);
  renameSync(data.from, join(blobs, digest));
  return { mediaType, digest: `sha256:${digest}`, size: Bun.file(join(blobs, digest)).size };
}

function tarLayer(rootfs: string, out: string): void {
  const entries = readdirSync(rootfs).sort();
  if (entries.length === 0) throw new Error(`layer folder ${rootfs} is empty`);
  run(["tar", ...TAR_FLAGS, PAX_CLEAN, "-C", rootfs, "-cf", out, ...entries]);
}

function imageConfig(spec: OciImageSpec, diffIds: string[]): Uint8Array {
  const c = spec.config;
  const config = {
    architecture: "amd64",
    os: "linux",
    created: "1970-01-01T00:00:00Z",
    config: {
      ...(c.entrypoint ? { Entrypoint: c.entrypoint } : {}),
      ...(c.cmd ? { Cmd: c.cmd } : {}),
      Env: c.env ?? ["PATH=/usr/local/bin:/usr/bin:/bin"],
      ...(c.user ? { User: c.user } : {}),
      ...(c.workingDir ? { WorkingDir: c.workingDir } : {}),
      ...(c.exposedPorts
        ? { ExposedPorts: Object.fromEntries(c.exposedPorts.map((p) => [`${p}/tcp`, {}])) }
        : {}),
    },
    rootfs: { type: "layers", diff_ids: diffIds },
    history: diffIds.map(() => ({ created: "1970-01-01T00:00:00Z", created_by: "agentland e2e/images" })),
  };
  return new TextEncoder().encode(JSON.stringify(config));
}

/** Writes the archive for `spec` to `out` (atomically: a partial file never has the final name). */
export function writeOciArchive(spec: OciImageSpec, out: string): void {
  const work = `${out}.layout-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    const layers: Blob[] = [];
    for (const [i, rootfs] of spec.layers.entries()) {
      const tmp = join(work, `layer-${i}.tar`);
      tarLayer(rootfs, tmp);
      // Uncompressed layers: the digest is also the diff ID, and import skips a decompression.
      layers.push(putBlob(work, "application/vnd.oci.image.layer.v1.tar", { from: tmp }));
    }
    const config = putBlob(
      work,
      "application/vnd.oci.image.config.v1+json",
      imageConfig(
        spec,
        layers.map((l) => l.digest),
      ),
    );
    const manifest = {
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config,
      layers,
    };
    const manifestBlob = putBlob(
      work,
      "application/vnd.oci.image.manifest.v1+json",
      new TextEncoder().encode(JSON.stringify(manifest)),
    );
    const tag = spec.name.slice(spec.name.lastIndexOf(":") + 1);
    const index = {
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [
        {
          ...manifestBlob,
          annotations: {
            "io.containerd.image.name": spec.name,
            "org.opencontainers.image.ref.name": tag,
          },
        },
      ],
    };
    writeFileSync(join(work, "index.json"), JSON.stringify(index));
    writeFileSync(join(work, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    mkdirSync(dirname(out), { recursive: true });
    const partial = `${out}.partial-${process.pid}`;
    run(["tar", ...TAR_FLAGS, "-C", work, "-cf", partial, "oci-layout", "index.json", "blobs"]);
    renameSync(partial, out);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
