/**
 * The manager as separate processes on the real cluster: controllers run only on the Lease holder, a
 * standby takes over when the leader dies, and a controller killed in the middle of a burst leaves nothing
 * that a fresh one cannot converge.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { SANDBOX_CLAIMS, SANDBOX_POOLS, SANDBOXES } from "../../api/resource-types";
import type { Sandbox } from "../../api/sandbox";
import type { SandboxClaim } from "../../api/sandbox-claim";
import type { SandboxPool } from "../../api/sandbox-pool";
import { LEASES, PODS } from "../../kube/resources";
import {
  adminClient,
  claim,
  cluster,
  controllerNamespace,
  eventually,
  kubectl,
  pool,
} from "../controllers/testing/controller-fixture";

const client = adminClient();
const pools = client.resource(SANDBOX_POOLS);
const claims = client.resource(SANDBOX_CLAIMS);
const sandboxes = client.resource(SANDBOXES);
const pods = client.resource(PODS);
const leases = client.resource(LEASES);
const LEASE_MS = 3_000;
const running = new Set<Bun.Subprocess>();
const namespaces: string[] = [];

afterAll(async () => {
  for (const p of running) p.kill(9);
  await Promise.all(namespaces.map((ns) => kubectl(["delete", "ns", ns, "--wait=false"])));
}, 60_000);

async function spawnManager(ns: string, podName: string): Promise<Bun.Subprocess> {
  const proc = Bun.spawn(
    [
      process.execPath,
      join(import.meta.dir, "testing/manager-process.ts"),
      `--kubeconfig=${cluster.kubeconfig}`,
      `--allowed-namespaces=${ns}`,
      `--leader-election-namespace=${ns}`,
      `--pod-name=${podName}`,
      `--lease-duration=${LEASE_MS / 1000}s`,
      "--renew-deadline=2s",
      "--retry-period=500ms",
      "--kube-qps=500",
      "--kube-burst=500",
      "--log-level=warn",
    ],
    { stdout: "pipe", stderr: "inherit" },
  );
  running.add(proc);
  const reader = proc.stdout.getReader();
  let text = "";
  while (!text.includes("manager started")) {
    const chunk = await reader.read();
    if (chunk.done) throw new Error(`manager ${podName} exited: ${text}`);
    text += new TextDecoder().decode(chunk.value);
  }
  reader.releaseLock();
  void proc.stdout.pipeTo(new WritableStream()).catch(() => {});
  return proc;
}

async function holder(ns: string): Promise<string> {
  const lease = await leases.get("agentland-agentcore", { namespace: ns }).catch(() => undefined);
  return lease?.spec?.holderIdentity ?? "";
}

async function poolAvailable(ns: string, name: string, n: number): Promise<SandboxPool> {
  return eventually(
    `pool ${name} has ${n} available`,
    async () => {
      const p = await pools.get(name, { namespace: ns }).catch(() => undefined);
      return p?.status?.availableReplicas === n ? p : undefined;
    },
    90_000,
  );
}

async function bound(ns: string, names: readonly string[]): Promise<SandboxClaim[] | undefined> {
  const items = (await claims.list({ namespace: ns })).items.filter((c) =>
    names.includes(c.metadata.name ?? ""),
  );
  return items.length === names.length && items.every((c) => c.status?.phase === "Bound") ? items : undefined;
}

describe("controller manager", () => {
  test("leader failover: kill the leader and the standby reconciles within the lease duration", async () => {
    const ns = await controllerNamespace("ctl-failover");
    namespaces.push(ns);
    await pools.create(pool(ns, "fo", 1) as unknown as SandboxPool, { namespace: ns });
    const managers = { a: await spawnManager(ns, "mgr-a"), b: await spawnManager(ns, "mgr-b") };
    await poolAvailable(ns, "fo", 1);
    const leader = await holder(ns);
    const [dying, standby] = leader.startsWith("mgr-a_") ? (["a", "b"] as const) : (["b", "a"] as const);
    managers[dying].kill(9);
    await managers[dying].exited;
    const killedAt = Date.now();
    await claims.create(claim(ns, "after-failover", { poolRef: { name: "fo" } }) as unknown as SandboxClaim, {
      namespace: ns,
    });
    await eventually("claim bound by the new leader", () => bound(ns, ["after-failover"]), 30_000);
    const took = Date.now() - killedAt;
    expect(await holder(ns)).toStartWith(`mgr-${standby}_`);
    // The standby waits out the dead leader's Lease (it cannot know it died), then lists and reconciles.
    expect(took).toBeLessThan(LEASE_MS + 5_000);
    managers[standby].kill("SIGTERM");
    await managers[standby].exited;
  }, 180_000);

  test("restart safety: SIGKILL in the middle of a 50-claim burst, a new manager leaves one pod per sandbox, no orphans, all claims bound", async () => {
    const ns = await controllerNamespace("ctl-restart");
    namespaces.push(ns);
    await pools.create(pool(ns, "burst", 10) as unknown as SandboxPool, { namespace: ns });
    const first = await spawnManager(ns, "mgr-first");
    await poolAvailable(ns, "burst", 10);
    const names = Array.from({ length: 50 }, (_, i) => `burst-${i}`);
    await Promise.all(
      names.map((name, i) =>
        claims.create(
          claim(ns, name, {
            poolRef: { name: "burst" },
            mode: i % 5 === 0 ? "PoolRequired" : "PoolPreferred",
          }) as unknown as SandboxClaim,
          {
            namespace: ns,
          },
        ),
      ),
    );
    // Kill it mid-burst: some claims bound, others not yet.
    await eventually("burst under way", async () => {
      const n = (await claims.list({ namespace: ns })).items.filter(
        (c) => c.status?.phase === "Bound",
      ).length;
      return n >= 5 ? n : undefined;
    });
    first.kill(9);
    await first.exited;
    const boundAtKill = (await claims.list({ namespace: ns })).items.filter(
      (c) => c.status?.phase === "Bound",
    ).length;
    expect(boundAtKill).toBeLessThan(50);

    const second = await spawnManager(ns, "mgr-second");
    const all = await eventually("all 50 claims bound", () => bound(ns, names), 120_000);
    await poolAvailable(ns, "burst", 10);
    await eventually(
      "every sandbox Ready",
      async () => {
        const list = (await sandboxes.list({ namespace: ns })).items;
        return list.every((s) => s.status?.phase === "Ready") ? true : undefined;
      },
      120_000,
    );

    const sbxList = (await sandboxes.list({ namespace: ns })).items.filter(
      (s) => !s.metadata.deletionTimestamp,
    );
    const podList = (await pods.list({ namespace: ns })).items.filter((p) => !p.metadata?.deletionTimestamp);
    const claimUids = new Map(all.map((c) => [c.metadata.uid ?? "", c.metadata.name ?? ""]));
    // Every claim holds exactly one sandbox, and that sandbox names it.
    const holders = new Map<string, Sandbox[]>();
    for (const s of sbxList) {
      const uid = s.spec.claimRef?.uid;
      if (uid) holders.set(uid, [...(holders.get(uid) ?? []), s]);
    }
    for (const c of all) {
      expect(holders.get(c.metadata.uid ?? "")?.map((s) => s.metadata.name)).toEqual([c.status?.sandboxName]);
    }
    // No orphans: every sandbox is controlled by a live claim or by the pool (unclaimed, exactly `replicas`).
    const poolUid = (await pools.get("burst", { namespace: ns })).metadata.uid;
    for (const s of sbxList) {
      const owner = s.metadata.ownerReferences?.find((r) => r.controller);
      expect(owner && (claimUids.has(owner.uid) || owner.uid === poolUid)).toBe(true);
    }
    expect(sbxList.filter((s) => !s.spec.claimRef)).toHaveLength(10);
    expect(sbxList).toHaveLength(60);
    // Exactly one pod per sandbox, controlled by it; no pod without its sandbox.
    const sbxUids = new Map(sbxList.map((s) => [s.metadata.uid ?? "", s.metadata.name ?? ""]));
    expect(podList).toHaveLength(sbxList.length);
    for (const p of podList) {
      const owner = p.metadata?.ownerReferences?.find((r) => r.controller);
      expect(sbxUids.get(owner?.uid ?? "")).toBe(p.metadata?.name ?? "");
    }
    second.kill("SIGTERM");
    await second.exited;
  }, 300_000);
});
