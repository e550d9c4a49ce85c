/**
 * The real node tier against the shared test cluster: a kubelet + containerd node joins as a second Node,
 * runs pods from the images e2e/images builds under runc and under gVisor (RuntimeClass `gvisor`), and the
 * isolation a sandbox pod gets is checked from inside it. Pods report what they saw through their termination message (the apiserver cannot reach
 * this kubelet's log endpoint by name), so every fact comes back through the pod's status.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { testCluster } from "../harness/test-cluster";
import { REAL_NODE_LABEL, REAL_NODE_TAINT } from "./node-layout";
import { type RealNode, realNodeDown, realNodeUp } from "./real-node";

const cluster = testCluster();
let node: RealNode;
let ns: string;

const IMAGE = "agentland/code-interpreter:0.1.0";

/** Python run as a hardened sandbox would be (as the agentland manifests harden pods). */
function pod(name: string, script: string, extra: { memory?: string; runtimeClassName?: string } = {}) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: ns },
    spec: {
      nodeSelector: { [REAL_NODE_LABEL]: "real" },
      tolerations: [{ key: REAL_NODE_TAINT, operator: "Exists", effect: "NoSchedule" }],
      ...(extra.runtimeClassName ? { runtimeClassName: extra.runtimeClassName } : {}),
      restartPolicy: "Never",
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 65532,
        runAsGroup: 65532,
        seccompProfile: { type: "RuntimeDefault" },
      },
      containers: [
        {
          name: "sandbox",
          image: IMAGE,
          imagePullPolicy: "IfNotPresent",
          command: ["/usr/bin/python3", "-c", script],
          resources: {
            limits: { cpu: "1", memory: extra.memory ?? "256Mi" },
            requests: { cpu: "50m", memory: "64Mi" },
          },
          securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
          },
        },
      ],
    },
  };
}

interface Terminated {
  readonly reason: string;
  readonly exitCode: number;
  readonly message: string;
}

/** Creates the pod and waits until its container terminated; returns how. */
async function runToEnd(manifest: ReturnType<typeof pod>, timeoutMs = 90_000): Promise<Terminated> {
  const created = await cluster.kubectl(["create", "-f", "-"], { stdin: JSON.stringify(manifest) });
  expect(created.stderr).toBe("");
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = await cluster.kubectl(["-n", ns, "get", "pod", manifest.metadata.name, "-o", "json"]);
    const status = JSON.parse(r.stdout).status;
    const t = status?.containerStatuses?.[0]?.state?.terminated;
    if (t) return { reason: t.reason, exitCode: t.exitCode, message: t.message ?? "" };
    await Bun.sleep(500);
  }
  const events = await cluster.kubectl([
    "-n",
    ns,
    "get",
    "events",
    "--field-selector",
    `involvedObject.name=${manifest.metadata.name}`,
  ]);
  throw new Error(`pod ${manifest.metadata.name} did not finish in ${timeoutMs / 1000} s:\n${events.stdout}`);
}

const FACTS = `
import json, os
facts = {"uid": os.getuid(), "gid": os.getgid()}
try:
    open("/probe", "w"); facts["rootfs"] = "writable"
except OSError as e:
    facts["rootfs"] = "EROFS" if e.errno == 30 else str(e)
# /workspace belongs to the sandbox user: only a read-only root stops this write (gVisor checks the
# permission on / before the read-only flag, so the write to / alone cannot tell them apart there).
try:
    open("/workspace/probe", "w"); facts["own_dir"] = "writable"
except OSError as e:
    facts["own_dir"] = "EROFS" if e.errno == 30 else str(e)
facts["sa_token"] = os.path.exists("/var/run/secrets/kubernetes.io/serviceaccount/token")
status = dict(l.split(":\\t", 1) for l in open("/proc/self/status").read().splitlines() if ":\\t" in l)
facts["cap_eff"] = status["CapEff"].strip(); facts["cap_prm"] = status["CapPrm"].strip()
facts["no_new_privs"] = status.get("NoNewPrivs", "").strip()
facts["version"] = open("/proc/version").read().strip()
open("/dev/termination-log", "w").write(json.dumps(facts))
`;

/** Forks sleeping children until something stops it; reports what did. */
const FORK_BOMB = `
import os, time
n = 0
try:
    while n < 20000:
        if os.fork() == 0:
            time.sleep(30); os._exit(0)
        n += 1
    result = "unbounded"
except OSError as e:
    result = "EAGAIN" if e.errno == 11 else str(e)
open("/dev/termination-log", "w").write(f"{result} {n}")
`;

beforeAll(async () => {
  node = await realNodeUp(cluster, (l) => console.error(`    [real-node] ${l}`));
  ns = await cluster.createNamespace("real-node");
}, 600_000);

afterAll(async () => {
  if (ns) await cluster.kubectl(["delete", "namespace", ns, "--wait=false"]);
  await realNodeDown(cluster, cluster.name);
}, 120_000);

describe("real node (kubelet + containerd + runc)", () => {
  test("joins as a second Node that is Ready, labelled and tainted for opt-in pods only", async () => {
    const r = await cluster.kubectl(["get", "node", node.nodeName, "-o", "json"]);
    const n = JSON.parse(r.stdout);
    expect(n.metadata.labels[REAL_NODE_LABEL]).toBe("real");
    expect(n.spec.taints).toContainEqual({ key: REAL_NODE_TAINT, value: "true", effect: "NoSchedule" });
    expect(n.status.nodeInfo.containerRuntimeVersion).toStartWith("containerd://");
    expect(n.status.nodeInfo.kubeletVersion).toBe("v1.34.4");
  });

  test("a sandbox pod from the locally built image sees a non-root, read-only, token-less, capability-free world", async () => {
    const t = await runToEnd(pod("facts", FACTS));
    expect(t.exitCode).toBe(0);
    const facts = JSON.parse(t.message);
    expectLockedDown(facts);
    expect(facts.rootfs).toBe("EROFS");
    expect(facts.version).not.toContain("gvisor");
  });

  test("a 2 GiB allocation in a 256 MiB sandbox is OOM-killed and reported as OOMKilled", async () => {
    const hog = "b = bytearray(2 * 1024 * 1024 * 1024)\nfor i in range(0, len(b), 4096): b[i] = 1";
    const t = await runToEnd(pod("oom", hog, { memory: "256Mi" }));
    expect(t.reason).toBe("OOMKilled");
    expect(t.exitCode).toBe(137);
  });

  test("a fork bomb is contained by the pod's pids limit and the node stays Ready", async () => {
    const t = await runToEnd(pod("forkbomb", FORK_BOMB, { memory: "512Mi" }));
    const [result, count] = t.message.split(" ");
    expect(`${t.reason}: ${result}`).toBe("Completed: EAGAIN");
    // The kubelet's podPidsLimit is 512 for the whole pod (pause and python included).
    expect(Number(count)).toBeLessThan(512);
    const after = await runToEnd(pod("after-bomb", "open('/dev/termination-log','w').write('alive')"));
    expect(after.message).toBe("alive");
    expect(await nodeReady()).toBe("True");
  });
});

/** What every sandbox must see, whatever its runtime: the restricted profile took effect. */
function expectLockedDown(facts: Record<string, unknown>): void {
  expect(facts["uid"]).toBe(65532);
  expect(facts["own_dir"]).toBe("EROFS");
  expect(facts["sa_token"]).toBe(false);
  expect(facts["cap_eff"]).toBe("0000000000000000");
  expect(facts["cap_prm"]).toBe("0000000000000000");
  expect(facts["no_new_privs"]).toBe("1");
}

/** The real node's Ready condition, as the apiserver has it. */
async function nodeReady(): Promise<string> {
  const r = await cluster.kubectl([
    "get",
    "node",
    node.nodeName,
    "-o",
    "jsonpath={.status.conditions[?(@.type=='Ready')].status}",
  ]);
  return r.stdout;
}

describe("real node under gVisor (RuntimeClass gvisor: runsc shim, systrap platform)", () => {
  const gvisor = { runtimeClassName: "gvisor" };

  test("the same sandbox code under runtimeClassName gvisor runs on gVisor's kernel, non-root, read-only, token-less, capability-free", async () => {
    const t = await runToEnd(pod("gvisor-facts", FACTS, gvisor));
    expect(t.exitCode).toBe(0);
    const facts = JSON.parse(t.message);
    expect(facts.version).toContain("gvisor");
    expectLockedDown(facts);
  }, 180_000);

  test("a 2 GiB allocation in a 256 MiB gVisor sandbox is killed by the pod's memory limit and reported as OOMKilled", async () => {
    const hog = "b = bytearray(2 * 1024 * 1024 * 1024)\nfor i in range(0, len(b), 4096): b[i] = 1";
    const t = await runToEnd(pod("gvisor-oom", hog, { memory: "256Mi", ...gvisor }));
    // The host's OOM killer takes the whole sandbox (gVisor's kernel), not one process inside it.
    expect(t.reason).toBe("OOMKilled");
  }, 180_000);

  test("a fork bomb in a gVisor sandbox is stopped by the sandbox's memory limit and the node stays Ready", async () => {
    // gVisor's processes are tasks of its own kernel, not host processes: the pod's pids limit does not
    // see them, the memory limit of the sandbox does.
    const t = await runToEnd(pod("gvisor-forkbomb", FORK_BOMB, { memory: "256Mi", ...gvisor }), 180_000);
    expect(t.reason).toBe("OOMKilled");
    const after = await runToEnd(
      pod("gvisor-after-bomb", "open('/dev/termination-log','w').write('alive')", gvisor),
    );
    expect(after.message).toBe("alive");
    expect(await nodeReady()).toBe("True");
  }, 300_000);
});
