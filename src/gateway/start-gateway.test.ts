/**
 * The gateway as a process among real parts: key rotation under load across two replicas, activity
 * reaching AgentCore, and the explicit `--auth=none` mode.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CODE_INTERPRETERS } from "../api/resource-types";
import { CONFIG_MAPS, SECRETS } from "../kube/resources";
import { cluster, type GatewayStack, startGatewayStack } from "./testing/gateway-stack";
import { eventually } from "./testing/processes";
import { decodeKeySet, ROTATE_ANNOTATION } from "./tokens/signing-key-secret";

let stack: GatewayStack;

beforeAll(async () => {
  stack = await startGatewayStack({
    korokds: 1,
    agents: 1,
    gatewayArgs: ["--key-rotation-interval=5s", "--key-propagation-delay=1500ms", "--token-lifetime=3s"],
  });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

async function storedKids(): Promise<string[]> {
  const secret = await stack.kube
    .resource(SECRETS)
    .get("agentland-gateway-signing-keys", { namespace: stack.home });
  return decodeKeySet(secret).keys.map((k) => k.kid);
}

describe("gateway process", () => {
  test("keys rotate (periodically and on demand) under a steady request stream across two replicas with zero failures", async () => {
    const second = await stack.startGateway();
    const gateways = [stack.gateway.url, second.url];
    const auth = { authorization: `Bearer ${stack.apiKeys["alice"]}`, "content-type": "application/json" };
    const body = JSON.stringify({ language: "python", code: "print(1+1)" });
    const first = await fetch(`${gateways[0]}/api/code-runner/run`, { method: "POST", headers: auth, body });
    const session = first.headers.get("x-agentland-session") as string;
    const seen = new Set<string>(await storedKids());
    const dropped = new Set<string>();
    let stop = false;
    let ok = 0;
    const failures: string[] = [];
    const worker = async (i: number) => {
      for (let n = 0; !stop; n++) {
        const res = await fetch(`${gateways[(i + n) % 2]}/api/code-runner/run`, {
          method: "POST",
          headers: { ...auth, "x-agentland-session": session },
          body,
        });
        const text = await res.text();
        if (res.status === 200 && text.includes('"stdout":"2\\n"')) ok++;
        else failures.push(`${res.status} ${text}`);
      }
    };
    const watcher = async () => {
      while (!stop) {
        const kids = await storedKids();
        for (const kid of seen) if (!kids.includes(kid)) dropped.add(kid);
        for (const kid of kids) seen.add(kid);
        await Bun.sleep(200);
      }
    };
    const load = Promise.all([worker(0), worker(1), worker(2), worker(3), watcher()]);
    await Bun.sleep(3_000);
    const annotate = await cluster.kubectl([
      "-n",
      stack.home,
      "annotate",
      "secret",
      "agentland-gateway-signing-keys",
      `${ROTATE_ANNOTATION}=${Date.now()}`,
      "--overwrite",
    ]);
    expect(annotate.code).toBe(0);
    // Long enough for periodic rotations and for superseded keys to be dropped after their tokens expired.
    await eventually("two keys to be dropped", async () => (dropped.size >= 2 ? true : undefined), 30_000);
    stop = true;
    await load;
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(50);
    expect(seen.size).toBeGreaterThanOrEqual(3);
    const cm = await stack.kube.resource(CONFIG_MAPS).get("agentland-sandbox-jwks", { namespace: stack.ns });
    const published = (JSON.parse(cm.data?.["jwks.json"] ?? "{}") as { keys: { kid: string }[] }).keys.map(
      (k) => k.kid,
    );
    for (const kid of dropped) expect(published).not.toContain(kid);
    await second.child.stop();
  }, 60_000);

  test("requests and open streams are reported to AgentCore as session activity", async () => {
    const auth = { authorization: `Bearer ${stack.apiKeys["bob"]}`, "content-type": "application/json" };
    const res = await fetch(`${stack.gateway.url}/api/code-runner/run`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ language: "sh", code: "true" }),
    });
    const session = res.headers.get("x-agentland-session") as string;
    await eventually("lastActivityTime on the session", async () => {
      const obj = await stack.kube.resource(CODE_INTERPRETERS).get(session, { namespace: stack.ns });
      return obj.status?.lastActivityTime;
    });
    // A run that is still going keeps the session active: reports during the run carry the current time.
    const abort = new AbortController();
    const started = Date.now();
    const running = fetch(`${stack.gateway.url}/api/code-runner/run`, {
      method: "POST",
      headers: { ...auth, "x-agentland-session": session },
      body: JSON.stringify({ language: "sh", code: "sleep 30" }),
      signal: abort.signal,
    }).catch(() => undefined);
    await eventually(
      "lastActivityTime to move on while the run is in flight",
      async () => {
        const obj = await stack.kube.resource(CODE_INTERPRETERS).get(session, { namespace: stack.ns });
        const at = obj.status?.lastActivityTime;
        // RFC 3339 seconds: allow for the truncation.
        return at !== undefined && Date.parse(at) >= started + 3_000 ? at : undefined;
      },
      20_000,
    );
    abort.abort();
    await running;
  }, 40_000);

  test("with AgentCore unreachable /readyz fails, and the pod's probe (/readyz?exclude=agentcore) still passes", async () => {
    const cut = await stack.startGateway(["--agentcore-url=http://127.0.0.1:9"]);
    const all = await fetch(`${cut.url}/readyz`);
    expect(all.status).toBe(503);
    expect(await all.json()).toEqual({
      status: "not_ready",
      checks: { agentcore: false, signing_key: true },
    });
    const own = await fetch(`${cut.url}/readyz?exclude=agentcore`);
    expect(own.status).toBe(200);
    const run = await fetch(`${cut.url}/api/code-runner/run`, {
      method: "POST",
      headers: { authorization: `Bearer ${stack.apiKeys["alice"]}`, "content-type": "application/json" },
      body: JSON.stringify({ language: "python", code: "print(1)" }),
    });
    expect(run.status).toBe(503);
    await cut.child.stop();
  });

  test("--auth=none is explicit: anyone is the principal 'anonymous' and /readyz says so", async () => {
    const open = await stack.startGateway(["--auth=none"]);
    const ready = (await (await fetch(`${open.url}/readyz`)).json()) as {
      status: string;
      warnings?: string[];
    };
    expect(ready.status).toBe("ready");
    expect(ready.warnings?.[0]).toContain("authentication is disabled");
    expect(open.child.output()).toContain("authentication is disabled");
    const res = await fetch(`${open.url}/api/agent-sessions/invocations/anon`);
    expect(res.status).toBe(200);
    const listed = (await (await fetch(`${open.url}/api/sessions`)).json()) as { sessions: { id: string }[] };
    expect(listed.sessions.map((s) => s.id)).toContain(res.headers.get("x-agentland-session") as string);
    await open.child.stop();
    expect(open.child.proc.exitCode).toBe(0);
  });
});
