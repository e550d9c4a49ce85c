import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { writeClusterInfo } from "../cluster/cluster-state";
import { removeTempDirs, tempDir } from "../harness/temp-dirs";
import { parseAgentSettings, SettingsError } from "./agent-settings";
import { podNetworkFor } from "./pod-network";

afterAll(removeTempDirs);

function cluster(): string {
  const dir = tempDir("na-settings-");
  writeClusterInfo({
    name: "demo",
    dir,
    server: "https://127.0.0.1:6443",
    kubeconfig: join(dir, "admin.kubeconfig"),
    nodeKubeconfig: join(dir, "node.kubeconfig"),
    caCert: join(dir, "ca.crt"),
    nodeName: "agentland-node-demo",
    binDir: "/bin",
    pids: {},
    startedAt: "2026-01-01T00:00:00Z",
  });
  return dir;
}

describe("node agent settings", () => {
  test("default to the cluster's node, credentials and a per-node state dir and network", () => {
    const dir = cluster();
    const s = parseAgentSettings([`--cluster-dir=${dir}`], { bun: "/bun" });
    expect(s).toMatchObject({
      nodeName: "agentland-node-demo",
      nodeKubeconfig: join(dir, "node.kubeconfig"),
      adminKubeconfig: join(dir, "admin.kubeconfig"),
      stateDir: join(dir, "nodes", "agentland-node-demo"),
      network: podNetworkFor("demo", "agentland-node-demo"),
      crashBackoffMs: 10_000,
      crashBackoffMaxMs: 300_000,
      shutdownGraceMs: 10_000,
      hostIP: "127.0.0.1",
      agentlandBuild: "auto",
    });
  });

  test("flags override; unknown flags, bad values and a missing cluster are refused", () => {
    const dir = cluster();
    const s = parseAgentSettings(
      [
        `--cluster-dir=${dir}`,
        "--node-name=extra-1",
        "--pod-network=127.200.0.0/16",
        "--crash-backoff=1s",
        "--image-map=a.json,b.json",
      ],
      { bun: "/bun" },
    );
    expect(s.nodeName).toBe("extra-1");
    expect(s.network.cidr).toBe("127.200.0.0/16");
    expect(s.crashBackoffMs).toBe(1000);
    expect(s.imageRules).toEqual(["a.json", "b.json"]);
    for (const argv of [
      [`--cluster-dir=${dir}`, "--bogus=1"],
      [`--cluster-dir=${dir}`, "--pod-network=10.0.0.0/8"],
      [`--cluster-dir=${dir}`, "--crash-backoff=soon"],
      [`--cluster-dir=${dir}`, "--node-name=Not_A_Name"],
      ["--cluster-dir=/nonexistent-cluster"],
      [],
    ]) {
      expect(() => parseAgentSettings(argv, { bun: "/bun" })).toThrow(SettingsError);
    }
  });
});
