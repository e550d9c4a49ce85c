import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { removeTempDirs, tempDir } from "../harness/temp-dirs";
import { hostTree, resolvePath, rootLayoutArgs } from "./root-layout";

afterAll(removeTempDirs);

/** A small host root: /usr/bin, /bin → usr/bin, /etc/passwd, /var/run → /run, /run and /tmp with content. */
function fakeRoot(): string {
  const root = tempDir("root-");
  for (const d of ["usr/bin", "etc/ssl", "var", "run/secrets", "tmp/junk", "proc", "dev"])
    mkdirSync(join(root, d), { recursive: true });
  writeFileSync(join(root, "etc/passwd"), "root:x:0:0\n");
  symlinkSync("usr/bin", join(root, "bin"));
  symlinkSync("/run", join(root, "var/run"));
  symlinkSync("../etc/ssl", join(root, "usr/ssl"));
  return root;
}

describe("the container root layout", () => {
  const tree = hostTree(fakeRoot());

  test("mount targets are resolved through host symlinks, absolute and relative", () => {
    expect(resolvePath(tree, "/var/run/secrets/kubernetes.io/serviceaccount")).toBe(
      "/run/secrets/kubernetes.io/serviceaccount",
    );
    expect(resolvePath(tree, "/usr/ssl/certs")).toBe("/etc/ssl/certs");
    expect(resolvePath(tree, "/data")).toBe("/data");
  });

  test("host top-level entries are bound read-only or re-linked; /proc, /dev, /tmp and /run are never taken from the host", () => {
    const args = rootLayoutArgs(tree, []);
    expect(args).toEqual([
      "--symlink",
      "usr/bin",
      "/bin",
      "--ro-bind",
      "/etc",
      "/etc",
      "--ro-bind",
      "/usr",
      "/usr",
      "--ro-bind",
      "/var",
      "/var",
    ]);
  });

  test("a mount point missing under a host directory splits that directory open instead of writing to the host", () => {
    const args = rootLayoutArgs(tree, ["/etc/agentland/api-keys"]).join(" ");
    expect(args).toContain("--perms 0755 --dir /etc");
    expect(args).toContain("--ro-bind /etc/passwd /etc/passwd");
    expect(args).toContain("--ro-bind /etc/ssl /etc/ssl");
    expect(args).toContain("--perms 0755 --dir /etc/agentland");
    expect(args).not.toContain("--ro-bind /etc /etc");
  });

  test("missing directories under the fresh /run and at the top level are created 0755, not 0700", () => {
    const args = rootLayoutArgs(tree, ["/run/secrets/kubernetes.io/serviceaccount", "/data/cache"]).join(" ");
    expect(args).toContain("--perms 0755 --dir /run/secrets --perms 0755 --dir /run/secrets/kubernetes.io");
    expect(args).toContain("--perms 0755 --dir /data");
    // /run/secrets exists on this host, but the container's /run is fresh: it is created, not bound.
    expect(args).not.toContain("--ro-bind /run");
  });
});
