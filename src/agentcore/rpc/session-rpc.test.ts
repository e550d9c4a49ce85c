/**
 * The session RPCs end to end inside agentcore: a real agentcore with its controllers turns
 * CreateAgentSession into a Ready sandbox pod on the host-process node; Get, List and Delete follow; a
 * follower replica answers too; and a session just deleted is never read back, even while the deleting
 * replica's watch lags behind (its watches run through a fault proxy the test can hold back).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Client, Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { type FaultProxy, startFaultProxy } from "../../../e2e/harness/fault-proxy";
import { removeTempDirs, tempDir } from "../../../e2e/harness/temp-dirs";
import {
  AgentCoreService,
  ProvisioningMode,
  SessionKind,
} from "../../gen/agentland/agentcore/v1/agentcore_pb";
import { loadKubeconfigFile } from "../../kube/kube-config";
import { apply, controllerNamespace, kubectl, template } from "../controllers/testing/controller-fixture";
import type { RunningAgentcore } from "../start-agentcore";
import { cluster, eventually, startTestAgentcore } from "../testing/agentcore-fixture";

afterAll(removeTempDirs);

let ns = "";
let proxy: FaultProxy;
let leader: RunningAgentcore;
let follower: RunningAgentcore;
let viaLeader: Client<typeof AgentCoreService>;
let viaFollower: Client<typeof AgentCoreService>;

async function codeOf(p: Promise<unknown>): Promise<Code | "ok"> {
  try {
    await p;
    return "ok";
  } catch (err) {
    return ConnectError.from(err).code;
  }
}

/** A kubeconfig that sends everything through the fault proxy (which holds the client certificate). */
function proxiedKubeconfig(url: string): string {
  const path = join(tempDir("agentcore-rpc-"), "kubeconfig");
  const kubeconfig = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "proxy", cluster: { server: url } }],
    users: [{ name: "proxy", user: {} }],
    contexts: [{ name: "proxy", context: { cluster: "proxy", user: "proxy" } }],
    "current-context": "proxy",
  };
  writeFileSync(path, JSON.stringify(kubeconfig));
  return path;
}

beforeAll(async () => {
  ns = await controllerNamespace("rpc-session");
  await apply({
    apiVersion: "agentland.fl0rencess720.app/v1alpha1",
    kind: "AgentRuntime",
    metadata: { name: "echo", namespace: ns },
    spec: { sandboxTemplate: template(), provisioning: { mode: "Direct" } },
  });
  const { tls } = loadKubeconfigFile(cluster.kubeconfig);
  proxy = startFaultProxy({
    upstream: cluster.server,
    tls: { ca: tls.ca ?? "", cert: tls.cert ?? "", key: tls.key ?? "" },
  });
  // The leader runs the controllers; the follower (started second, so it waits on the Lease) only serves.
  leader = await startTestAgentcore(
    ns,
    [`--kubeconfig=${proxiedKubeconfig(proxy.url)}`, "--create-timeout=60s"],
    {
      controllers: true,
    },
  );
  await eventually("the first replica to lead", async () => (leader.isLeader() ? true : undefined));
  follower = await startTestAgentcore(ns);
  viaLeader = createClient(AgentCoreService, createGrpcTransport({ baseUrl: leader.url }));
  viaFollower = createClient(AgentCoreService, createGrpcTransport({ baseUrl: follower.url }));
}, 60_000);

afterAll(async () => {
  await Promise.all([leader?.stop(2_000), follower?.stop(2_000)]);
  await proxy?.stop();
  await kubectl(["delete", "ns", ns, "--wait=false"]);
}, 30_000);

describe("session RPCs", () => {
  test("create → Ready → Get/List on any replica → Delete: never read back, and nothing is left", async () => {
    const { session } = await viaLeader.createAgentSession({
      principal: "olivia",
      runtimeName: "echo",
      runtimeNamespace: ns,
    });
    const id = session?.id ?? "";
    expect(session).toMatchObject({
      namespace: ns,
      kind: SessionKind.AGENT,
      principal: "olivia",
      phase: "Ready",
      port: 8080,
      runtimeName: "echo",
      warm: false,
    });
    expect(id).toMatch(/^as-[a-z0-9]{20,}$/);
    expect(session?.podIdentity).toBe(`${ns}/${session?.podName}`);
    // Ready means ready: the pod answers on the address the session reports.
    const res = await fetch(`http://${session?.podIp}:${session?.port}/`, {
      signal: AbortSignal.timeout(5_000),
    });
    expect(await res.text()).toBe("ok");

    const got = await viaLeader.getSession({ principal: "olivia", id });
    expect(got.session?.podIp).toBe(session?.podIp ?? "");
    // The follower learns of the session and of its sandbox from its own watches, each in its own time.
    const fromFollower = await eventually("the follower to see the session Ready", async () => {
      try {
        const seen = (await viaFollower.getSession({ principal: "olivia", id })).session;
        return seen?.phase === "Ready" ? seen : undefined;
      } catch {
        return undefined;
      }
    });
    expect(fromFollower?.podIp).toBe(session?.podIp ?? "");
    expect((await viaLeader.listSessions({ principal: "olivia" })).sessions.map((s) => s.id)).toEqual([id]);
    expect((await viaFollower.listSessions({ principal: "olivia" })).sessions.map((s) => s.id)).toEqual([id]);

    // Hold the deleting replica's watches: its cache cannot learn of the delete from the watch.
    expect(proxy.stallWatches()).toBeGreaterThan(0);
    const t0 = Date.now();
    await viaLeader.deleteSession({ principal: "olivia", id });
    // DeleteSession waited for its watch to confirm, up to its bound: proof the watch really lagged.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1_900);
    expect(await codeOf(viaLeader.getSession({ principal: "olivia", id }))).toBe(Code.NotFound);
    expect((await viaLeader.listSessions({ principal: "olivia" })).sessions).toEqual([]);
    expect(await codeOf(viaLeader.deleteSession({ principal: "olivia", id }))).toBe(Code.NotFound);
    // Another replica learns of the delete from its own watch.
    await eventually("the follower to drop the session", async () =>
      (await codeOf(viaFollower.getSession({ principal: "olivia", id }))) === Code.NotFound
        ? true
        : undefined,
    );
    expect((await viaFollower.listSessions({ principal: "olivia" })).sessions).toEqual([]);

    proxy.dropWatches(); // the leader's watches resume
    const selector = `agentland.fl0rencess720.app/session=${id}`;
    await eventually(
      "the sandbox and pod to go with the session",
      async () => {
        const left = await kubectl(["-n", ns, "get", "sandboxes,pods", "-l", selector, "-o", "name"]);
        const pod = await cluster.kubectl(["-n", ns, "get", "pod", session?.podName ?? "", "-o", "name"]);
        return left.trim() === "" && pod.code !== 0 ? true : undefined;
      },
      30_000,
    );
  }, 90_000);

  test("a refused create writes nothing at all: unknown runtime, disallowed namespace, invalid option", async () => {
    const sessionWrites = () =>
      proxy.requests.filter(
        (r) => r.method !== "GET" && /\/(codeinterpreters|agentsessions)(\/|$)/.test(r.path),
      ).length;
    const before = sessionWrites();
    const refused = [
      viaLeader.createAgentSession({ principal: "pat", runtimeName: "missing", runtimeNamespace: ns }),
      viaLeader.createAgentSession({
        principal: "pat",
        runtimeName: "echo",
        runtimeNamespace: "kube-system",
      }),
      viaLeader.createCodeInterpreter({ principal: "pat", options: { namespace: "default" } }),
      viaLeader.createCodeInterpreter({ principal: "pat", options: { maxSessionDurationSeconds: 10 } }),
      viaLeader.createCodeInterpreter({ principal: "" }),
    ];
    expect(await Promise.all(refused.map(codeOf))).toEqual([
      Code.NotFound,
      Code.PermissionDenied,
      Code.PermissionDenied,
      Code.InvalidArgument,
      Code.InvalidArgument,
    ]);
    // Every request of this replica goes through the proxy: not one session write, in any namespace.
    expect(sessionWrites()).toBe(before);
  }, 30_000);

  test("a sandbox that fails is FailedPrecondition with the reason; an exhausted pool past the deadline is ResourceExhausted; neither leaves anything", async () => {
    await apply(
      {
        apiVersion: "agentland.fl0rencess720.app/v1alpha1",
        kind: "AgentRuntime",
        metadata: { name: "broken", namespace: ns },
        spec: {
          sandboxTemplate: template("agentland-fixtures/no-such-image:1"),
          provisioning: { mode: "Direct" },
        },
      },
      {
        apiVersion: "agentland.fl0rencess720.app/v1alpha1",
        kind: "SandboxPool",
        metadata: { name: "dry", namespace: ns },
        spec: { replicas: 0, sandboxTemplate: template() },
      },
    );
    // Any replica waits for Ready (the leader's controllers write the status); this one waits 8 s at most.
    const patient = await startTestAgentcore(ns, ["--create-timeout=8s"]);
    try {
      const rpc = createClient(AgentCoreService, createGrpcTransport({ baseUrl: patient.url }));
      const errorOf = async (p: Promise<unknown>) => {
        try {
          await p;
          throw new Error("expected the create to fail");
        } catch (err) {
          return ConnectError.from(err);
        }
      };
      const [failed, exhausted] = await Promise.all([
        errorOf(
          rpc.createAgentSession({ principal: "quentin", runtimeName: "broken", runtimeNamespace: ns }),
        ),
        errorOf(
          rpc.createAgentSession({
            principal: "quentin",
            runtimeName: "echo",
            runtimeNamespace: ns,
            options: { provisioning: { mode: ProvisioningMode.POOL_REQUIRED, poolRef: "dry" } },
          }),
        ),
      ]);
      expect(failed.code).toBe(Code.FailedPrecondition);
      expect(failed.rawMessage).toContain("ErrImageNeverPull");
      expect(exhausted.code).toBe(Code.ResourceExhausted);
      expect(exhausted.rawMessage).toContain("PoolExhausted");
      let lastLeft = "";
      await eventually(
        "nothing left of either",
        async () => {
          const left = await kubectl([
            "-n",
            ns,
            "get",
            "agentsessions,sandboxclaims,sandboxes",
            "-o",
            "name",
          ]);
          lastLeft = left.trim();
          return left.trim() === "" ? true : undefined;
        },
        30_000,
      ).catch((err: unknown) => {
        throw new Error(`${(err as Error).message}; still there: ${lastLeft.replaceAll("\n", " ")}`);
      });
    } finally {
      await patient.stop(2_000);
    }
  }, 60_000);
});
