import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { removeTempDirs, tempDir } from "../korokd-test-kit";
import { counterCandidates, createOomCounter, parseOomKillCount, watchOom } from "./oom-counter";

afterAll(removeTempDirs);

const V1 = "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n";
const V2 = "low 0\nhigh 0\nmax 12\noom 2\noom_kill 1\noom_group_kill 0\n";

describe("OOM kill counter", () => {
  test("the oom_kill count is read from cgroup v1 memory.oom_control and v2 memory.events", () => {
    expect(parseOomKillCount(V1)).toBe(3);
    expect(parseOomKillCount(V2)).toBe(1);
  });

  test("a file without an oom_kill line (kernel before 4.13, other files) has no count", () => {
    expect(parseOomKillCount("oom_kill_disable 0\nunder_oom 0\n")).toBeUndefined();
    expect(parseOomKillCount("oom_group_kill 4\n")).toBeUndefined();
    expect(parseOomKillCount("")).toBeUndefined();
  });

  test("korokd's own memory cgroup is tried first, then the mount root a container sees as its own", () => {
    const v1 = "12:pids:/kubepods/p1/c1\n9:memory:/kubepods/p1/c1\n1:name=systemd:/kubepods/p1/c1\n";
    expect(counterCandidates(v1, "/cg")).toEqual([
      "/cg/memory/kubepods/p1/c1/memory.oom_control",
      "/cg/memory/memory.oom_control",
      "/cg/memory.events",
    ]);
    expect(counterCandidates("0::/kubepods/p1/c1\n", "/cg")[0]).toBe("/cg/kubepods/p1/c1/memory.events");
    // A cgroup namespace shows "/": only the mount root is left.
    expect(counterCandidates("0::/\n", "/cg")).toEqual([
      "/cg/memory/memory.oom_control",
      "/cg/memory.events",
    ]);
  });

  test("the first readable counter file is used and re-read on every run", () => {
    const dir = tempDir("korokd-oom-");
    mkdirSync(join(dir, "memory"));
    const file = join(dir, "memory", "memory.oom_control");
    writeFileSync(file, V1);
    const counter = createOomCounter([join(dir, "missing", "memory.oom_control"), file]);
    expect(counter.source).toBe(file);
    expect(counter.read()).toBe(3);
    writeFileSync(file, V1.replace("oom_kill 3", "oom_kill 4"));
    expect(counter.read()).toBe(4);
  });

  test("without any counter file nothing is ever reported as OOM-killed", () => {
    const counter = createOomCounter([join(tempDir("korokd-oom-"), "memory.events")]);
    expect(counter.source).toBeUndefined();
    expect(counter.read()).toBeUndefined();
    expect(watchOom(counter).killed(137)).toBe(false);
  });

  test("a run is OOM-killed only when it died by SIGKILL while the counter went up", () => {
    let count = 7;
    const counter = { source: "test", read: () => count };
    const killedWhileCounting = watchOom(counter);
    count++;
    expect(killedWhileCounting.killed(137)).toBe(true);
    // Another exit while the counter went up: some other process was the victim.
    expect(killedWhileCounting.killed(1)).toBe(false);
    // SIGKILL without a new OOM kill: korokd's own timeout or a user's kill -9.
    expect(watchOom(counter).killed(137)).toBe(false);
  });
});
