import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { join } from "node:path";
import { removeTempDirs, tempDir } from "../harness/temp-dirs";
import { PayloadError, writePayload } from "./atomic-writer";

afterAll(removeTempDirs);

const files = (entries: Record<string, string>, mode = 0o644) =>
  new Map(Object.entries(entries).map(([k, content]) => [k, { content, mode }]));

describe("the atomic volume writer", () => {
  test("lays files out as the kubelet does: ..data → timestamped dir, one relative symlink per entry", () => {
    const dir = join(tempDir("aw-"), "vol");
    expect(writePayload(dir, files({ token: "t1", "sub/ca.crt": "ca" }, 0o600))).toBe(true);
    expect(readlinkSync(join(dir, "token"))).toBe("..data/token");
    expect(readlinkSync(join(dir, "sub"))).toBe("..data/sub");
    expect(readlinkSync(join(dir, "..data")).startsWith("..")).toBe(true);
    expect(readFileSync(join(dir, "sub/ca.crt"), "utf8")).toBe("ca");
    expect(statSync(join(dir, "token")).mode & 0o777).toBe(0o600);
  });

  test("rewriting the same content changes nothing; new content swaps ..data and drops stale entries", () => {
    const dir = join(tempDir("aw-"), "vol");
    writePayload(dir, files({ a: "1", b: "2" }));
    const first = readlinkSync(join(dir, "..data"));
    expect(writePayload(dir, files({ a: "1", b: "2" }))).toBe(false);
    expect(writePayload(dir, files({ a: "changed" }))).toBe(true);
    expect(readlinkSync(join(dir, "..data"))).not.toBe(first);
    expect(readFileSync(join(dir, "a"), "utf8")).toBe("changed");
    expect(existsSync(join(dir, "b"))).toBe(false);
    // Only the current payload directory is left.
    expect(readdirSync(dir).filter((e) => e.startsWith("..") && e !== "..data")).toHaveLength(1);
    expect(lstatSync(join(dir, "a")).isSymbolicLink()).toBe(true);
  });

  test("paths that would leave the volume are refused", () => {
    const dir = join(tempDir("aw-"), "vol");
    for (const bad of ["../x", "/abs", "a/../../x", "..data", "a//b"]) {
      expect(() => writePayload(dir, files({ [bad]: "x" }))).toThrow(PayloadError);
    }
  });
});
