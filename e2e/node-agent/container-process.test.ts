/**
 * Real sandboxes (bubblewrap; the agent runs as root): the container sees the root, volumes, user and
 * hostname it asked for; exit codes come through; stopping ends the whole process tree; exec joins it.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { removeTempDirs, tempDir } from "../harness/temp-dirs";
import { execInContainer } from "./container-exec";
import { startContainerProcess } from "./container-process";
import { isRunning } from "./process-group";
import { hostTree, resolvePath, rootLayoutArgs } from "./root-layout";
import { type SandboxSpec, sandboxArgv } from "./sandbox-argv";
import { sleepers } from "./testing/node-test-kit";

afterAll(removeTempDirs);

const tree = hostTree("/");
const marker = () => `${3000 + Math.floor(Math.random() * 900)}.${Math.floor(Math.random() * 1e6)}`;
const which = (name: string) => Bun.which(name) as string;

function sandbox(script: string, over: Partial<SandboxSpec> = {}) {
  const dir = tempDir("sbx-");
  const vol = join(dir, "vol");
  const ro = join(dir, "ro");
  mkdirSync(vol);
  chmodSync(vol, 0o777);
  mkdirSync(ro);
  writeFileSync(join(ro, "secret"), "s3cret");
  writeFileSync(join(dir, "hosts"), "127.0.0.1\tlocalhost\n127.9.9.9\tbackend.ns.svc\n");
  const mounts = [
    { hostPath: vol, containerPath: "/data", readOnly: false },
    { hostPath: ro, containerPath: resolvePath(tree, "/var/run/secrets/x"), readOnly: true },
  ];
  const spec: SandboxSpec = {
    bwrap: which("bwrap"),
    setpriv: which("setpriv"),
    layout: rootLayoutArgs(
      tree,
      mounts.map((m) => m.containerPath),
    ),
    hostname: "pod-a",
    readOnlyRoot: true,
    hostsFile: join(dir, "hosts"),
    mounts,
    dropCaps: [],
    addCaps: [],
    noNewPrivileges: true,
    argv: ["/bin/sh", "-c", script],
    ...over,
  };
  const log = join(dir, "out.log");
  const proc = startContainerProcess({
    argv: sandboxArgv(spec),
    env: { PATH: "/usr/bin:/bin" },
    logFile: log,
  });
  return { proc, log: () => readFileSync(log, "utf8"), vol };
}

describe("a sandboxed container", () => {
  test("sees a read-only host, its volumes, its hosts file and hostname, as its user", async () => {
    const script = [
      "id -u; hostname",
      "touch /etc/x 2>/dev/null || echo root-ro",
      "echo hi > /data/f && echo data-rw",
      "cat /var/run/secrets/x/secret; echo",
      "touch /var/run/secrets/x/y 2>/dev/null || echo secret-ro",
      "grep backend /etc/hosts",
    ].join("; ");
    const { proc, log, vol } = sandbox(script, { user: { uid: 65532, gid: 65532, groups: [] } });
    expect((await proc.exited).exitCode).toBe(0);
    expect(log().trim().split("\n")).toEqual([
      "65532",
      "pod-a",
      "root-ro",
      "data-rw",
      "s3cret",
      "secret-ro",
      "127.9.9.9\tbackend.ns.svc",
    ]);
    expect(readFileSync(join(vol, "f"), "utf8")).toBe("hi\n");
  }, 20_000);

  test("a writable root lets the container write /tmp and new paths, never the host", async () => {
    const { proc, log } = sandbox(
      "echo x > /tmp/t && mkdir /scratch && echo ok; touch /etc/x 2>/dev/null || echo etc-ro",
      { readOnlyRoot: false },
    );
    expect((await proc.exited).exitCode).toBe(0);
    expect(log()).toBe("ok\netc-ro\n");
  }, 20_000);

  test("the exit code comes through, and a signal death reads as 128 + signal", async () => {
    expect((await sandbox("exit 42").proc.exited).exitCode).toBe(42);
    expect(await sandbox("kill -KILL $$").proc.exited).toEqual({ exitCode: 137, signal: 9 });
  }, 20_000);

  test("stop() sends SIGTERM to the whole tree, grandchild included", async () => {
    const [child, grandchild] = [marker(), marker()];
    const { proc } = sandbox(`sleep ${child} & (sleep ${grandchild} &); wait`);
    while (sleepers(child).length + sleepers(grandchild).length < 2) await Bun.sleep(20);
    const started = Date.now();
    expect((await proc.stop(10_000)).exitCode).toBe(143);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(sleepers(child)).toEqual([]);
    expect(sleepers(grandchild)).toEqual([]);
    expect(isRunning(proc.pid)).toBe(false);
  }, 20_000);

  test("a container that ignores SIGTERM is killed when the grace period ends", async () => {
    const m = marker();
    const { proc } = sandbox(`trap '' TERM; sleep ${m} & wait; wait`);
    while (sleepers(m).length < 1) await Bun.sleep(20);
    const started = Date.now();
    expect(await proc.stop(800)).toEqual({ exitCode: 137, signal: 9 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(750);
    expect(sleepers(m)).toEqual([]);
  }, 20_000);

  test("exec runs inside the container's namespaces, environment and user", async () => {
    const { proc, vol } = sandbox("echo inside > /data/marker; exec sleep 3600", {
      user: { uid: 1234, gid: 1234, groups: [] },
    });
    while (!existsSync(join(vol, "marker"))) await Bun.sleep(10);
    expect(await proc.namespacePid).toBeNumber();
    const pid = await proc.mainPid();
    expect(pid).toBeNumber();
    const target = {
      nsenter: which("nsenter"),
      targetPid: pid as number,
      env: { PATH: "/usr/bin:/bin", WHO: "me" },
      user: { uid: 1234, gid: 1234 },
    };
    const r = await execInContainer(
      target,
      ["/bin/sh", "-c", "id -u; hostname; echo $WHO; cat /data/marker"],
      5000,
    );
    expect(r).toEqual({ exitCode: 0, output: "1234\npod-a\nme\ninside\n", timedOut: false });
    const slow = await execInContainer(target, ["sleep", "5"], 200);
    expect(slow.timedOut).toBe(true);
    await proc.stop(1000);
  }, 20_000);
});
