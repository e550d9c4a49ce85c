/**
 * Stopping the node leaves nothing behind: on SIGTERM the agent ends every pod process (grandchildren
 * included), removes pod directories, releases pod IPs, marks its Node NotReady and exits 0 well within
 * the 15 s `cluster down` allows; and `cluster down` as a whole leaves no process, mount or pod IP.
 * Each test runs its own small cluster, so stopping its node disturbs no other test.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { randomBytes, randomInt } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ClusterInfo } from "../cluster/cluster-state";
import { clusterDown, clusterUp } from "../cluster/control-plane";
import { processesMentioning } from "../cluster/processes";
import { listeningAddresses } from "./loopback-listeners";
import { inPodNetwork, podNetworkFor } from "./pod-network";
import type { Node, Pod } from "./pod-types";
import { nodeAgentArgv } from "./start-node-agent";
import { echoPod, isReady, shellPod, sleepers } from "./testing/node-test-kit";

const names: string[] = [];
afterAll(async () => {
  for (const name of names) await clusterDown(name);
});

async function kubectl(info: ClusterInfo, args: string[], stdin?: string): Promise<string> {
  const proc = Bun.spawn([join(info.binDir, "kubectl"), `--kubeconfig=${info.kubeconfig}`, ...args], {
    stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`kubectl ${args.join(" ")}: ${err}`);
  return out;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(100);
  }
}

/** Runs a web server, a process tree and a pod with Secret/emptyDir volumes; returns their pod IPs and markers. */
async function startWorkload(info: ClusterInfo): Promise<{ ips: string[]; markers: string[] }> {
  const markers = [
    `${3000 + randomInt(900)}.${randomInt(1e6)}`,
    `${3000 + randomInt(900)}.${randomInt(1e6)}`,
  ];
  const objects = [
    { apiVersion: "v1", kind: "Secret", metadata: { name: "s" }, stringData: { k: "v" } },
    echoPod("web"),
    shellPod("tree", `(sleep ${markers[0]} &); exec sleep ${markers[1]}`),
    shellPod("vols", "exec sleep 3600", {
      volumes: [
        { name: "s", secret: { secretName: "s" } },
        { name: "scratch", emptyDir: {} },
      ],
      containers: [
        {
          name: "sh",
          image: "agentland-fixtures/shell:1",
          command: ["/bin/sh", "-c", "exec sleep 3600"],
          volumeMounts: [
            { name: "s", mountPath: "/etc/s" },
            { name: "scratch", mountPath: "/scratch" },
          ],
        },
      ],
    }),
  ];
  // A fresh cluster: the controller-manager creates the default ServiceAccount pods need a moment later.
  const sa = () => kubectl(info, ["get", "sa", "default", "-n", "default", "-o", "name"]);
  await until("default ServiceAccount", async () => ((await sa()) ? true : undefined));
  await kubectl(
    info,
    ["apply", "-n", "default", "-f", "-"],
    JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }),
  );
  const pods = await until("three Ready pods", async () => {
    const list = JSON.parse(await kubectl(info, ["get", "pods", "-n", "default", "-o", "json"])) as {
      items: Pod[];
    };
    return list.items.length === 3 && list.items.every(isReady) ? list.items : undefined;
  });
  await until("process tree", async () =>
    markers.every((m) => sleepers(m).length === 1) ? true : undefined,
  );
  return { ips: pods.map((p) => p.status?.podIP as string), markers };
}

function assertNothingLeft(info: ClusterInfo, workload: { ips: string[]; markers: string[] }) {
  const network = podNetworkFor(info.name, info.nodeName);
  for (const m of workload.markers) expect(sleepers(m)).toEqual([]);
  const listening = [...listeningAddresses()].filter((ip) => inPodNetwork(network, ip));
  expect(listening).toEqual([]);
  for (const ip of workload.ips) expect(inPodNetwork(network, ip)).toBe(true);
  const mounts = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .filter((l) => l.includes(info.dir));
  expect(mounts).toEqual([]);
}

describe("stopping the node", () => {
  test("on SIGTERM the agent stops every pod, releases pod IPs and directories, marks the Node NotReady and exits 0", async () => {
    const name = `na-stop-${randomBytes(3).toString("hex")}`;
    names.push(name);
    const info = await clusterUp({ name, withNode: false, log: () => {} });
    const agent = Bun.spawn(nodeAgentArgv(info.dir), { stdout: "pipe", stderr: "pipe" });
    await until("node Ready", async () => {
      const node = JSON.parse(await kubectl(info, ["get", "node", info.nodeName, "-o", "json"])) as Node;
      return node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")
        ? true
        : undefined;
    });
    const workload = await startWorkload(info);
    const podsDir = join(info.dir, "nodes", info.nodeName, "pods");
    expect(readdirSync(podsDir)).toHaveLength(3);

    const started = Date.now();
    agent.kill("SIGTERM");
    expect(await agent.exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(15_000);
    assertNothingLeft(info, workload);
    expect(readdirSync(podsDir)).toEqual([]);
    expect(processesMentioning(podsDir)).toEqual([]);
    const node = JSON.parse(await kubectl(info, ["get", "node", info.nodeName, "-o", "json"])) as Node;
    expect(node.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("False");
  }, 120_000);

  test("cluster down leaves no process, mount or pod IP in use", async () => {
    const name = `na-down-${randomBytes(3).toString("hex")}`;
    names.push(name);
    const info = await clusterUp({ name, log: () => {} });
    const workload = await startWorkload(info);
    await clusterDown(name);
    assertNothingLeft(info, workload);
    expect(processesMentioning(info.dir)).toEqual([]);
    expect(existsSync(info.dir)).toBe(false);
  }, 120_000);
});
