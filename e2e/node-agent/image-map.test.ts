import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { removeTempDirs, tempDir } from "../harness/temp-dirs";
import { createImageMap, DEFAULT_IMAGE_RULES, imageRepository, loadImageRules } from "./image-map";

afterAll(removeTempDirs);

const repo = join(import.meta.dir, "..", "..");
const vars = { repo, bun: "/opt/bun", agentland: ["/opt/bun", `${repo}/src/main.ts`] };
const map = createImageMap(DEFAULT_IMAGE_RULES, vars);

describe("image references", () => {
  test("the repository drops tag and digest but keeps a registry port", () => {
    expect(imageRepository("agentland/control-plane:0.1.0")).toBe("agentland/control-plane");
    expect(imageRepository("agentland/control-plane@sha256:abc")).toBe("agentland/control-plane");
    expect(imageRepository("localhost:5000/agentland/control-plane:1")).toBe(
      "localhost:5000/agentland/control-plane",
    );
    expect(imageRepository("localhost:5000/agentland/control-plane")).toBe(
      "localhost:5000/agentland/control-plane",
    );
  });
});

describe("the default image map", () => {
  test("agentland images run the project's executable, whatever the tag or registry", () => {
    for (const image of [
      "agentland/control-plane:0.1.0",
      "ghcr.io/x/agentland/control-plane@sha256:00",
      "agentland/control-plane",
    ]) {
      expect(map.resolve(image)).toMatchObject({ entrypoint: vars.agentland, cmd: [] });
    }
    expect(map.resolve("agentland/code-interpreter:0.1.0")).toMatchObject({
      entrypoint: vars.agentland,
      cmd: ["--mode=korokd"],
    });
  });

  test("Bun-run images get Bun's DNS cache turned off (Service names move between pod IPs)", () => {
    expect(map.resolve("agentland/control-plane:0.1.0")?.env).toEqual({
      BUN_CONFIG_DNS_TIME_TO_LIVE_SECONDS: "0",
    });
    expect(map.resolve("agentland-fixtures/shell:1")?.env).toEqual({});
  });

  test("the code-interpreter image gets the image's own environment, but not its PATH", () => {
    for (const image of ["agentland/code-interpreter:0.1.0", "registry.local/agentland/code-interpreter:1"]) {
      expect(map.resolve(image)?.env).toEqual({
        BUN_CONFIG_DNS_TIME_TO_LIVE_SECONDS: "0",
        BUN_GC_TIMER_DISABLE: "1",
      });
    }
  });

  test("agentland-fixtures/<name> runs e2e/fixtures/<name>.ts, only for fixtures that exist", () => {
    expect(map.resolve("agentland-fixtures/http-echo:1")?.entrypoint).toEqual([
      "/opt/bun",
      `${repo}/e2e/fixtures/http-echo.ts`,
    ]);
    expect(map.resolve("agentland-fixtures/no-such-fixture:1")).toBeUndefined();
    expect(map.resolve("agentland-fixtures/../../src/main:1")).toBeUndefined();
    expect(map.resolve("agentland-fixtures/shell:1")).toMatchObject({ entrypoint: [], cmd: ["/bin/sh"] });
  });

  test("any other image has no mapping", () => {
    expect(map.resolve("nginx:1.27")).toBeUndefined();
    expect(map.resolve("docker.io/library/busybox")).toBeUndefined();
    expect(map.describe().join("\n")).toContain("agentland/control-plane");
  });
});

describe("extra image rules", () => {
  test("a rules file is validated and its rules win over the defaults", () => {
    const dir = tempDir("image-map-");
    const file = join(dir, "rules.json");
    writeFileSync(
      file,
      JSON.stringify({
        rules: [
          { repository: "agentland/control-plane", command: ["{bun}", "{repo}/x.ts"], env: { A: "{repo}" } },
        ],
      }),
    );
    const custom = createImageMap([...loadImageRules(file), ...DEFAULT_IMAGE_RULES], vars);
    expect(custom.resolve("agentland/control-plane:1")).toEqual({
      entrypoint: ["/opt/bun", `${repo}/x.ts`],
      cmd: [],
      env: { A: repo },
    });
    writeFileSync(file, JSON.stringify({ rules: [{ command: ["x"] }] }));
    expect(() => loadImageRules(file)).toThrow(/image map/);
  });
});
