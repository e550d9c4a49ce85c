/**
 * What goes into each image, staged as root-filesystem folders: the glibc files the compiled executable
 * and Python link against (from Debian's libc6 package), Python 3.11 and the shells from Debian packages
 * for the code interpreter, and the project's static pause program. The Dockerfiles in manifests/images
 * describe the same images for users with Docker; these are their equivalents built without it.
 */
import { chmodSync, chownSync, cpSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { downloadDebs, extractDebs } from "./debian-packages";

export const NONROOT = 65532;
const LIB = "lib/x86_64-linux-gnu";

/** glibc as the executable and Python need it: the loader and the libraries, nothing of libc6's rest. */
const GLIBC_FILES = [
  "lib64/ld-linux-x86-64.so.2",
  ...[
    "ld-linux-x86-64.so.2",
    "libc.so.6",
    "libm.so.6",
    "libpthread.so.0",
    "libdl.so.2",
    "librt.so.1",
    "libutil.so.1",
    "libresolv.so.2",
    "libnss_files.so.2",
    "libnss_dns.so.2",
  ].map((f) => `${LIB}/${f}`),
];

/** Python's interpreter, its standard library and the libraries of the stdlib's extension modules. */
export const PYTHON_PACKAGES = [
  "python3.11-minimal",
  "libpython3.11-minimal",
  "libpython3.11-stdlib",
  "zlib1g",
  "libexpat1",
  "libssl3",
  "libffi8",
  "libbz2-1.0",
  "liblzma5",
  "libsqlite3-0",
  "libncursesw6",
  "libtinfo6",
  "libreadline8",
  "libuuid1",
  "libcrypt1",
  "media-types",
];
/** bash, dash as /bin/sh and busybox's tools, as the code-interpreter Dockerfile has them. */
export const SHELL_PACKAGES = ["bash", "dash", "busybox-static"];
export const GLIBC_PACKAGES = ["libc6"];

function run(argv: string[]): string {
  const r = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")} failed: ${r.stderr.toString().trim()}`);
  return r.stdout.toString();
}

/** Layer 1 of every image: the glibc files, users, name-service config and a world-writable /tmp. */
export function stageGlibc(into: string, debCache: string): void {
  const unpacked = `${into}.deb`;
  rmSync(unpacked, { recursive: true, force: true });
  extractDebs(downloadDebs(GLIBC_PACKAGES, debCache), unpacked);
  for (const f of GLIBC_FILES) {
    mkdirSync(join(into, f, ".."), { recursive: true });
    cpSync(join(unpacked, f), join(into, f), { dereference: false, verbatimSymlinks: true });
  }
  rmSync(unpacked, { recursive: true, force: true });
  mkdirSync(join(into, "etc"), { recursive: true });
  writeFileSync(
    join(into, "etc/passwd"),
    `root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:${NONROOT}:${NONROOT}:nonroot:/home/nonroot:/sbin/nologin\n`,
  );
  writeFileSync(join(into, "etc/group"), `root:x:0:\nnonroot:x:${NONROOT}:\n`);
  writeFileSync(join(into, "etc/nsswitch.conf"), "passwd: files\ngroup: files\nhosts: files dns\n");
  mkdirSync(join(into, "tmp"), { recursive: true });
  chmodSync(join(into, "tmp"), 0o1777);
  mkdirSync(join(into, "home/nonroot"), { recursive: true });
  chownSync(join(into, "home/nonroot"), NONROOT, NONROOT);
}

/** Python, bash, dash (/bin/sh) and busybox applet links, trimmed of documentation. */
export function stageInterpreters(into: string, debCache: string): void {
  extractDebs(downloadDebs([...PYTHON_PACKAGES, ...SHELL_PACKAGES], debCache), into);
  for (const junk of [
    "usr/share/doc",
    "usr/share/man",
    "usr/share/lintian",
    "usr/share/info",
    "etc/init.d",
  ]) {
    rmSync(join(into, junk), { recursive: true, force: true });
  }
  symlinkSync("python3.11", join(into, "usr/bin/python3"));
  // dash ships bin/sh already; the busybox package ships its binary at bin/busybox.
  const busybox = join(into, "bin/busybox");
  mkdirSync(join(into, "usr/local/bin"), { recursive: true });
  for (const applet of run([busybox, "--list"]).split("\n")) {
    if (applet === "" || ["sh", "ash", "bash", "hush", "busybox"].includes(applet)) continue;
    symlinkSync("/bin/busybox", join(into, "usr/local/bin", applet));
  }
}

/** The compiled agentland executable, plus /workspace owned by the non-root user (the sandbox's cwd). */
export function stageAgentland(into: string, executable: string, withWorkspace: boolean): void {
  mkdirSync(join(into, "usr/local/bin"), { recursive: true });
  cpSync(executable, join(into, "usr/local/bin/agentland"));
  chmodSync(join(into, "usr/local/bin/agentland"), 0o755);
  if (withWorkspace) {
    mkdirSync(join(into, "workspace"), { recursive: true });
    chownSync(join(into, "workspace"), NONROOT, NONROOT);
  }
}

/** The pause image's only file: the project's pause program, statically linked. */
export function stagePause(into: string, source: string): void {
  mkdirSync(into, { recursive: true });
  run(["gcc", "-static", "-Os", "-s", "-o", join(into, "pause"), source]);
}

/**
 * Runs `argv` inside the staged layers merged into a scratch root, so a missing library or
 * module fails the image build instead of the first sandbox.
 */
export function checkInRoot(layers: readonly string[], scratch: string, argv: readonly string[]): string {
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  for (const l of layers) run(["cp", "-a", `${l}/.`, scratch]);
  try {
    // bubblewrap rather than chroot: the executable needs /proc and /dev, as it has in a container.
    return run(["bwrap", "--bind", scratch, "/", "--proc", "/proc", "--dev", "/dev", "--", ...argv]);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
