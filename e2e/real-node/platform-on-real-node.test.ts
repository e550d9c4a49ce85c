/**
 * agentland installed as an operator installs it (`kubectl apply -f manifests`) on a control plane whose only
 * node is a real one (kubelet + containerd + runc): the agentcore and gateway Deployments run the control-plane
 * image, the warm pool runs the code-interpreter image, and code runs through the gateway in a real container.
 * Its own control plane (started here without the host-process node), so the platform's sandboxes can only
 * land on the real node and the shared cluster's platform is left alone.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { ClusterInfo } from "../cluster/cluster-state";
import { clusterDown, clusterUp } from "../cluster/control-plane";
import { kubectlFor, SANDBOX_NS, SYSTEM_NS } from "../platform/bring-up-platform";
import { type RealNode, realNodeDown, realNodeUp } from "./real-node";
import { installPlatform } from "./real-node-platform";

const name = `rnp-${process.pid}`;

/** Prints the run's uid, its pod's hostname and its parent's command name on its first line. */
const PROBE =
  'import os, socket; print(os.getuid(), socket.gethostname(), open(f"/proc/{os.getppid()}/comm").read().strip())';

function probed(stdout: unknown): Record<"uid" | "host" | "parent", string | undefined> {
  const [uid, host, parent] = String(stdout).split("\n")[0]?.split(" ") ?? [];
  return { uid, host, parent };
}
let cluster: ClusterInfo;
let node: RealNode;
let kubectl: ReturnType<typeof kubectlFor>;
let gateway: string;
let apiKey: string;

async function run(
  code: string,
  session?: string,
): Promise<{ body: Record<string, unknown>; session: string }> {
  const res = await fetch(`${gateway}/api/code-runner/run`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${apiKey}`,
      "content-type": "application/json",
      ...(session ? { "x-agentland-session": session } : {}),
    },
    body: JSON.stringify({ language: "python", code }),
    signal: AbortSignal.timeout(60_000),
  });
  const body = (await res.json()) as Record<string, unknown>;
  expect(res.status).toBe(200);
  return { body, session: res.headers.get("x-agentland-session") ?? "" };
}

beforeAll(async () => {
  const log = (l: string) => console.error(`    [platform-on-real-node] ${l}`);
  cluster = await clusterUp({ name, withNode: false, log });
  node = await realNodeUp(cluster, log, { taint: false });
  kubectl = kubectlFor(cluster);
  ({ gateway, apiKey } = await installPlatform(cluster));
  log(`platform Available on ${node.nodeName}; gateway ${gateway}`);
}, 600_000);

afterAll(async () => {
  try {
    if (cluster) await realNodeDown(cluster, name);
  } finally {
    // Even when the node's teardown fails, its control plane must not outlive the test.
    await clusterDown(name);
  }
}, 120_000);

describe("agentland on the real node", () => {
  test("agentcore and gateway Deployments are Available with their real images on the real node", async () => {
    const pods = JSON.parse(await kubectl(["-n", SYSTEM_NS, "get", "pods", "-o", "json"])).items as {
      spec: { nodeName: string };
      status: { containerStatuses: { image: string; imageID: string; ready: boolean }[] };
    }[];
    expect(pods.length).toBeGreaterThanOrEqual(4);
    for (const p of pods) {
      expect(p.spec.nodeName).toBe(node.nodeName);
      const c = p.status.containerStatuses[0];
      expect(c?.image).toBe("docker.io/agentland/control-plane:0.1.0");
      expect(c?.imageID).toMatch(/sha256:[0-9a-f]{64}$/);
    }
  });

  test("a code run through the gateway executes in a real sandbox container as the non-root user", async () => {
    const { body, session } = await run(PROBE);
    expect(body["exit_code"]).toBe(0);
    const { uid, host, parent } = probed(body["stdout"]);
    expect(uid).toBe("65532");
    expect(host).toStartWith("code-interpreter-");
    // Forked by korokd's python zygote, as in local pods: the fork server works inside a real container.
    expect(parent).toStartWith("python");
    expect(session).not.toBe("");
  });

  test("a 2 GiB allocation in a 512 MiB sandbox is OOM-killed, reported as such, and the session keeps working", async () => {
    const first = await run("print('warm')");
    expect(first.body["oom_killed"]).toBe(false);
    const oom = await run("b = bytearray(2 * 1024 ** 3)\nprint(len(b))", first.session);
    expect(oom.body).toMatchObject({ exit_code: 137, oom_killed: true, timed_out: false });
    const after = await run("print('still here')", first.session);
    expect(String(after.body["stdout"]).trim()).toBe("still here");
  });

  // Last: it rolls the shared pool over to gVisor.
  test("with the pool's template under runtimeClassName gvisor, a new session's code runs through the gateway on gVisor's kernel", async () => {
    const patch = { spec: { sandboxTemplate: { runtimeClassName: "gvisor" } } };
    await kubectl([
      "-n",
      SANDBOX_NS,
      "patch",
      "sandboxpool",
      "code-interpreter",
      "--type=merge",
      "-p",
      JSON.stringify(patch),
    ]);
    const deadline = Date.now() + 240_000;
    while (!(await warmUnderGvisor())) {
      if (Date.now() > deadline)
        throw new Error("the pool's warm sandboxes did not all move to gVisor in 240 s");
      await Bun.sleep(1_000);
    }
    const { body, session } = await run(`${PROBE}\nprint(open('/proc/version').read())`);
    expect(body["exit_code"]).toBe(0);
    expect(String(body["stdout"])).toContain("gvisor");
    // The zygote forks under gVisor too (its descriptor passing and prctl are gVisor's own).
    expect(probed(body["stdout"]).parent).toStartWith("python");
    expect(session).not.toBe("");
  }, 300_000);
});

/** Every unclaimed sandbox of the pool (as many as it wants) has a Ready pod running under gVisor. */
async function warmUnderGvisor(): Promise<boolean> {
  const json = async (kind: string) =>
    JSON.parse(await kubectl(["-n", SANDBOX_NS, "get", kind, "-o", "json"])).items as {
      metadata: { name: string; ownerReferences?: { kind: string; name: string }[] };
      spec: { claimRef?: unknown; runtimeClassName?: string; replicas?: number };
      status?: { conditions?: { type: string; status: string }[] };
    }[];
  const [pools, sandboxes, pods] = await Promise.all([json("sandboxpool"), json("sandbox"), json("pod")]);
  const wanted = pools.find((p) => p.metadata.name === "code-interpreter")?.spec.replicas ?? 0;
  const warm = sandboxes.filter(
    (s) => !s.spec.claimRef && s.metadata.ownerReferences?.some((o) => o.kind === "SandboxPool"),
  );
  const gvisorReady = (name: string) =>
    pods.some(
      (p) =>
        p.metadata.name === name &&
        p.spec.runtimeClassName === "gvisor" &&
        p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
    );
  return wanted > 0 && warm.length === wanted && warm.every((s) => gvisorReady(s.metadata.name));
}
