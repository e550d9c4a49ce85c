/**
 * `bun e2e/images/build-images.ts [--out=DIR]` — agentland's images as OCI archives, built without Docker:
 * `agentland/control-plane` (gateway + agentcore), `agentland/code-interpreter` (korokd with Python and
 * shells) and `agentland/pause` (the pod sandbox). Archives are cached under ~/.cache/agentland/images,
 * keyed by the hash of everything that goes in (the compiled executable, the .deb files, the pause source
 * and the recipe files themselves), so an unchanged tree costs one compile and a few hashes.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { cacheRoot } from "../cluster/binaries";
import { compileCommand } from "./compile-command";
import { downloadDebs } from "./debian-packages";
import {
  checkInRoot,
  GLIBC_PACKAGES,
  NONROOT,
  PYTHON_PACKAGES,
  SHELL_PACKAGES,
  stageAgentland,
  stageGlibc,
  stageInterpreters,
  stagePause,
} from "./image-recipes";
import { KOROKD_IMAGE_ENV } from "./korokd-env";
import { writeOciArchive } from "./oci-archive";

const REPO = join(import.meta.dir, "../..");
export const IMAGE_TAG = "0.1.0";
export const PAUSE_IMAGE = `docker.io/agentland/pause:${IMAGE_TAG}`;

export interface BuiltImage {
  /** Fully qualified name, as containerd stores it. */
  readonly name: string;
  readonly archive: string;
}

function bunPath(): string {
  return join(REPO, "node_modules/.bin/bun");
}

/** Compiles agentland exactly as the Dockerfiles do; ~4 s. */
function compileAgentland(out: string): void {
  const r = Bun.spawnSync(compileCommand(bunPath(), out), { cwd: REPO, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`bun build --compile failed: ${r.stderr.toString()}`);
}

function hashOf(parts: readonly (string | Uint8Array)[]): string {
  const h = createHash("sha256");
  for (const p of parts) h.update(p).update("\0");
  return h.digest("hex").slice(0, 16);
}

function recipeSources(): Uint8Array[] {
  return ["oci-archive.ts", "image-recipes.ts", "build-images.ts", "korokd-env.ts", "pause/pause.c"].map(
    (f) => readFileSync(join(import.meta.dir, f)),
  );
}

/** Builds whichever archives are missing from the cache; returns all three. */
export async function ensureImages(log: (line: string) => void = console.error): Promise<BuiltImage[]> {
  const root = join(cacheRoot(), "images");
  const debCache = join(cacheRoot(), "debs");
  const work = join(root, `work-${process.pid}`);
  mkdirSync(work, { recursive: true });
  try {
    const exe = join(work, "agentland");
    compileAgentland(exe);
    const exeHash = createHash("sha256").update(readFileSync(exe)).digest("hex");
    const debs = downloadDebs([...GLIBC_PACKAGES, ...PYTHON_PACKAGES, ...SHELL_PACKAGES], debCache);
    const common = [...recipeSources(), ...debs.map((d) => d.split("/").pop() as string)];
    const keys = {
      controlPlane: hashOf(["control-plane", exeHash, ...common]),
      codeInterpreter: hashOf(["code-interpreter", exeHash, ...common]),
      pause: hashOf(["pause", ...common]),
    };
    const archive = (short: string, key: string) => join(root, `${short}-${IMAGE_TAG}-${key}.tar`);
    const out = {
      controlPlane: archive("control-plane", keys.controlPlane),
      codeInterpreter: archive("code-interpreter", keys.codeInterpreter),
      pause: archive("pause", keys.pause),
    };
    const stage = (name: string) => join(work, name);
    const glibc = () => {
      if (!existsSync(stage("glibc"))) stageGlibc(stage("glibc"), debCache);
      return stage("glibc");
    };
    if (!existsSync(out.controlPlane)) {
      log("building image agentland/control-plane");
      stageAgentland(stage("cp-app"), exe, false);
      checkInRoot([glibc(), stage("cp-app")], stage("check"), ["/usr/local/bin/agentland", "--version"]);
      writeOciArchive(
        {
          name: `docker.io/agentland/control-plane:${IMAGE_TAG}`,
          layers: [glibc(), stage("cp-app")],
          config: {
            entrypoint: ["/usr/local/bin/agentland"],
            cmd: ["--help"],
            user: `${NONROOT}:${NONROOT}`,
          },
        },
        out.controlPlane,
      );
    }
    if (!existsSync(out.codeInterpreter)) {
      log("building image agentland/code-interpreter (Python and shells from Debian packages)");
      stageInterpreters(stage("interp"), debCache);
      stageAgentland(stage("ci-app"), exe, true);
      const layers = [glibc(), stage("interp"), stage("ci-app")];
      checkInRoot(layers, stage("check"), [
        "/usr/bin/python3",
        "-c",
        "import json, ssl, sqlite3, hashlib, decimal, ctypes, uuid, lzma, bz2, zlib, readline; print('ok')",
      ]);
      checkInRoot(layers, stage("check"), ["/bin/sh", "-c", "ls / >/dev/null && bash -c 'echo ok'"]);
      writeOciArchive(
        {
          name: `docker.io/agentland/code-interpreter:${IMAGE_TAG}`,
          layers,
          config: {
            entrypoint: ["/usr/local/bin/agentland", "--mode=korokd"],
            env: Object.entries(KOROKD_IMAGE_ENV).map(([k, v]) => `${k}=${v}`),
            user: `${NONROOT}:${NONROOT}`,
            workingDir: "/workspace",
            exposedPorts: [1883],
          },
        },
        out.codeInterpreter,
      );
    }
    if (!existsSync(out.pause)) {
      log("building image agentland/pause");
      stagePause(stage("pause"), join(import.meta.dir, "pause/pause.c"));
      writeOciArchive(
        {
          name: PAUSE_IMAGE,
          layers: [stage("pause")],
          config: { entrypoint: ["/pause"], user: "65535:65535" },
        },
        out.pause,
      );
    }
    pruneStale(root, new Set(Object.values(out)));
    return [
      { name: `docker.io/agentland/control-plane:${IMAGE_TAG}`, archive: out.controlPlane },
      { name: `docker.io/agentland/code-interpreter:${IMAGE_TAG}`, archive: out.codeInterpreter },
      { name: PAUSE_IMAGE, archive: out.pause },
    ];
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Older archives of the same images (other keys) would only fill the disk. */
function pruneStale(root: string, keep: ReadonlySet<string>): void {
  for (const f of readdirSync(root)) {
    const path = join(root, f);
    if (f.endsWith(".tar") && !keep.has(path)) rmSync(path, { force: true });
  }
}

if (import.meta.main) {
  const started = Date.now();
  for (const img of await ensureImages()) console.log(`${img.name}\t${img.archive}`);
  console.error(`images ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
