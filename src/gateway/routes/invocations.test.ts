/**
 * `/api/agent-sessions/invocations/*` against the real stack: gateway process, AgentCore, echo-agent
 * processes as agent pods (plus one korokd pod for cross-sandbox token checks).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { connect } from "node:net";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createLocalJWKSet, jwtVerify } from "jose";
import { downloadByte } from "../../../e2e/fixtures/echo-agent";
import { AGENT_SESSIONS } from "../../api/resource-types";
import { AgentCoreService } from "../../gen/agentland/agentcore/v1/agentcore_pb";
import { CONFIG_MAPS } from "../../kube/resources";
import { type GatewayStack, startGatewayStack } from "../testing/gateway-stack";
import { eventually } from "../testing/processes";

let stack: GatewayStack;
const PREFIX = "/api/agent-sessions/invocations";

beforeAll(async () => {
  stack = await startGatewayStack({ korokds: 1, agents: 2, gatewayArgs: ["--upstream-timeout=2s"] });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

interface Echo {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  body: string;
}

function invoke(
  path: string,
  init: RequestInit & { sessionId?: string; as?: string } = {},
): Promise<Response> {
  const { sessionId, as = "alice", ...rest } = init;
  const headers = new Headers(rest.headers);
  headers.set("authorization", `Bearer ${stack.apiKeys[as]}`);
  if (sessionId !== undefined) headers.set("x-agentland-session", sessionId);
  return fetch(`${stack.gateway.url}${PREFIX}${path}`, { ...rest, headers });
}

async function agentSessionCount(namespace = stack.ns): Promise<number> {
  return (await stack.kube.resource(AGENT_SESSIONS).list({ namespace })).items.length;
}

async function jwks() {
  const cm = await stack.kube.resource(CONFIG_MAPS).get("agentland-sandbox-jwks", { namespace: stack.ns });
  return createLocalJWKSet(JSON.parse(cm.data?.["jwks.json"] ?? "{}"));
}

describe("agent invocations", () => {
  test("method, path, query and body reach the agent unchanged, with a token for exactly that pod", async () => {
    const first = await invoke("/v1/items/42?q=a%20b&x=1", {
      method: "POST",
      body: "hello agent",
      headers: { cookie: "gw=secret", "x-request-id": "trace-123", "x-custom": "kept" },
    });
    expect(first.status).toBe(200);
    const session = first.headers.get("x-agentland-session") as string;
    expect(session).toMatch(/^as-/);
    expect(first.headers.get("x-request-id")).toBe("trace-123");
    const echo = (await first.json()) as Echo;
    expect(echo).toMatchObject({
      method: "POST",
      path: "/v1/items/42",
      query: "?q=a%20b&x=1",
      body: "hello agent",
    });
    expect(echo.headers["x-custom"]).toBe("kept");
    expect(echo.headers["cookie"]).toBeUndefined();
    expect(echo.headers["x-api-key"]).toBeUndefined();
    expect(echo.headers["x-agentland-session"]).toBe(session);
    expect(echo.headers["x-request-id"]).toBe("trace-123");
    expect(echo.headers["x-forwarded-for"]).toBe("127.0.0.1");
    expect(echo.headers["x-forwarded-proto"]).toBe("http");
    const token = (echo.headers["authorization"] ?? "").replace(/^Bearer /, "");
    expect(token).not.toBe(stack.apiKeys["alice"] as string);
    const { payload, protectedHeader } = await jwtVerify(token, await jwks(), {
      algorithms: ["EdDSA"],
      issuer: "agentland-gateway",
    });
    expect(protectedHeader.alg).toBe("EdDSA");
    expect(stack.agents.map((a) => a.identity)).toContain(payload.aud as string);
    expect(payload.sid).toBe(session);
    expect((payload.exp as number) - (payload.iat as number)).toBeLessThanOrEqual(60);

    for (const method of ["GET", "PUT", "DELETE", "PATCH"]) {
      const res = await invoke(`/v1/${method.toLowerCase()}/x%2Fy?n=${method}`, {
        method,
        sessionId: session,
        ...(method === "GET" ? {} : { body: `body-${method}` }),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get("x-agentland-session")).toBe(session);
      const e = (await res.json()) as Echo;
      expect(e).toMatchObject({ method, path: `/v1/${method.toLowerCase()}/x%2Fy`, query: `?n=${method}` });
      expect(e.body).toBe(method === "GET" ? "" : `body-${method}`);
      // Same session, same pod: the token names the same audience every time, with a fresh jti.
      const again = await jwtVerify((e.headers["authorization"] ?? "").slice(7), await jwks());
      expect(again.payload.aud).toBe(payload.aud as string);
      expect(again.payload.jti).not.toBe(payload.jti as string);
    }
  });

  test("the runtime comes from headers, else query, and its namespace must be allowed (403, nothing created)", async () => {
    const viaHeader = await invoke("/h", {
      headers: { "x-agentland-runtime": "echo", "x-agentland-runtime-namespace": stack.ns },
    });
    expect(viaHeader.status).toBe(200);
    const viaQuery = await invoke(`/q?runtime=echo&runtime_namespace=${stack.ns}`);
    expect(viaQuery.status).toBe(200);
    expect(((await viaQuery.json()) as Echo).query).toBe(`?runtime=echo&runtime_namespace=${stack.ns}`);
    const before = await agentSessionCount();
    for (const res of [
      await invoke("/x", {
        headers: { "x-agentland-runtime": "echo", "x-agentland-runtime-namespace": "kube-system" },
      }),
      await invoke("/x?runtime=echo&runtime_namespace=default"),
    ]) {
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("namespace_not_allowed");
    }
    expect(await agentSessionCount()).toBe(before);
    expect(await agentSessionCount("kube-system")).toBe(0);
    expect(await agentSessionCount("default")).toBe(0);
    const unknown = await invoke("/x", { headers: { "x-agentland-runtime": "no-such-runtime" } });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe("runtime_not_found");
    expect(await agentSessionCount()).toBe(before);
  });

  test("a 50 MiB upload and a 50 MiB download stream through without the gateway holding them", async () => {
    const created = await invoke("/warmup");
    const session = created.headers.get("x-agentland-session") as string;
    const MiB = 1024 * 1024;
    const chunk = new Uint8Array(MiB).map((_, i) => (i * 7) % 256);
    const expected = createHash("sha256");
    for (let i = 0; i < 50; i++) expected.update(chunk);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 50) return controller.close();
        sent++;
        controller.enqueue(chunk);
      },
    });
    const upload = await peakGrowth(async () => {
      const up = await invoke("/upload", { method: "POST", body, sessionId: session });
      expect(up.status).toBe(200);
      expect(await up.json()).toEqual({ bytes: 50 * MiB, sha256: expected.digest("hex") });
    });
    const download = await peakGrowth(async () => {
      const down = await invoke(`/download?bytes=${50 * MiB}`, { sessionId: session });
      expect(down.status).toBe(200);
      let received = 0;
      let intact = true;
      for await (const part of down.body as ReadableStream<Uint8Array>) {
        for (let i = 0; i < part.length; i++) if (part[i] !== downloadByte(received + i)) intact = false;
        received += part.length;
      }
      expect(received).toBe(50 * MiB);
      expect(intact).toBe(true);
    });
    // Holding a body would cost at least its 50 MiB; streaming costs a bounded high-water mark of socket
    // and chunk buffers (measured 8-16 MiB here, independent of the body's size).
    expect(upload).toBeLessThan(25 * MiB);
    expect(download).toBeLessThan(25 * MiB);
  }, 60_000);

  test("server-sent events from the agent arrive one by one", async () => {
    const created = await invoke("/warmup");
    const session = created.headers.get("x-agentland-session") as string;
    const gate = crypto.randomUUID();
    const res = await invoke(`/sse?count=3&interval_ms=10&gate=${gate}`, { sessionId: session });
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = "";
    while (!text.includes("\n\n")) text += decoder.decode((await reader.read()).value, { stream: true });
    // The agent sends the rest only after this: the first event cannot have been held back.
    expect(text).toContain('"n":0');
    expect(text).not.toContain('"n":1');
    const released = await invoke(`/release?gate=${gate}`, { method: "POST", sessionId: session });
    expect(await released.json()).toEqual({ released: true });
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    expect(text.match(/^data: /gm)?.length).toBe(3);
  });

  test("path tricks cannot change the target: every request lands on the session's pod or nowhere", async () => {
    const canaryHits: string[] = [];
    const canary = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req) {
        canaryHits.push(req.url);
        return new Response("canary");
      },
    });
    try {
      const created = await invoke("/warmup");
      const session = created.headers.get("x-agentland-session") as string;
      const c = `127.0.0.1:${canary.port}`;
      const targets = [
        `${PREFIX}/..%2f..%2f${c}/x`,
        `${PREFIX}/%2e%2e/%2e%2e/api/sessions`,
        `${PREFIX}/../../${c}/x`,
        `${PREFIX}//${c}/x`,
        `${PREFIX}/%2f%2f${c}/x`,
        `${PREFIX}@${c}/x`,
        `${PREFIX}/\\\\${c}/x`,
        `http://${c}${PREFIX}/absolute-form`,
      ];
      for (const target of targets) {
        const { status, body } = await rawRequest(stack.gateway.url, target, {
          authorization: `Bearer ${stack.apiKeys["alice"]}`,
          "x-agentland-session": session,
        });
        if (status === 200) {
          const echo = JSON.parse(body) as Echo;
          const { payload } = await jwtVerify((echo.headers["authorization"] ?? "").slice(7), await jwks());
          expect(stack.agents.map((a) => a.identity)).toContain(payload.aud as string);
        } else {
          expect([400, 404]).toContain(status);
        }
      }
      expect(canaryHits).toEqual([]);
    } finally {
      await canary.stop(true);
    }
  });

  test("a slow agent is 504 upstream_timeout, an unreachable one 502 sandbox_unreachable", async () => {
    const slow = await invoke("/slow-headers?ms=4000");
    expect(slow.status).toBe(504);
    expect(slow.headers.get("x-agentland-session")).toMatch(/^as-/);
    expect(((await slow.json()) as { error: { code: string } }).error.code).toBe("upstream_timeout");
    const dead = await invoke("/x", { headers: { "x-agentland-runtime": "dead" } });
    expect(dead.status).toBe(502);
    expect(((await dead.json()) as { error: { code: string } }).error.code).toBe("sandbox_unreachable");
  }, 20_000);

  test("in an existing session, keys and ownership are checked as everywhere; failures name the session", async () => {
    const created = await invoke("/warmup");
    const session = created.headers.get("x-agentland-session") as string;
    await created.text();
    const code = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;
    const noKey = await fetch(`${stack.gateway.url}${PREFIX}/x`, {
      headers: { "x-agentland-session": session },
    });
    expect([noKey.status, await code(noKey)]).toEqual([401, "api_key_missing"]);
    const badKey = await fetch(`${stack.gateway.url}${PREFIX}/x`, {
      headers: { "x-agentland-session": session, authorization: "Bearer agl_not-a-key" },
    });
    expect([badKey.status, await code(badKey)]).toEqual([401, "api_key_invalid"]);
    const foreign = await invoke("/x", { sessionId: session, as: "bob" });
    expect([foreign.status, await code(foreign)]).toEqual([404, "session_not_found"]);
    const unknown = await invoke("/x", { sessionId: "as-no-such-session" });
    expect([unknown.status, await code(unknown)]).toEqual([404, "session_not_found"]);
    const slow = await invoke("/slow-headers?ms=4000", {
      sessionId: session,
      headers: { "x-request-id": "rid-1" },
    });
    expect(slow.status).toBe(504);
    expect(slow.headers.get("x-agentland-session")).toBe(session);
    expect(slow.headers.get("x-request-id")).toBe("rid-1");
    expect(await slow.json()).toMatchObject({ error: { code: "upstream_timeout", request_id: "rid-1" } });
  }, 20_000);

  test("a session that is not Ready is 503 with Retry-After", async () => {
    const rpc = createClient(AgentCoreService, createGrpcTransport({ baseUrl: stack.agentcore.url }));
    const { session } = await rpc.createAgentSession({
      principal: "alice",
      runtimeName: "echo",
      runtimeNamespace: stack.ns,
    });
    const id = session?.id as string;
    await stack.kube.resource(AGENT_SESSIONS).patchStatus(id, {
      namespace: stack.ns,
      type: "merge",
      patch: {
        status: {
          phase: "Pending",
          conditions: [
            {
              type: "Ready",
              status: "False",
              reason: "PodNotReady",
              message: "restarting",
              lastTransitionTime: new Date().toISOString(),
            },
          ],
        },
      },
    });
    const res = await eventually("agentcore to see the session not Ready", async () => {
      const r = await invoke("/x", { sessionId: id });
      return r.status === 503 ? r : undefined;
    });
    expect(res.headers.get("retry-after")).toBeTruthy();
    expect(res.headers.get("x-agentland-session")).toBe(id);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("session_not_ready");
  });

  test("a client that goes away aborts the request to the agent", async () => {
    const created = await invoke("/warmup");
    const session = created.headers.get("x-agentland-session") as string;
    const statsOf = async () =>
      (await (await invoke("/stats", { sessionId: session })).json()) as {
        requests: number;
        aborted: number;
      };
    const before = await statsOf();
    const abort = new AbortController();
    const held = invoke("/hold", { sessionId: session, signal: abort.signal }).catch(() => undefined);
    await eventually("the request to reach the agent", async () =>
      (await statsOf()).requests >= before.requests + 3 ? true : undefined,
    );
    abort.abort();
    await held;
    await eventually("the agent to see the abort", async () =>
      (await statsOf()).aborted > before.aborted ? true : undefined,
    );
  });

  test("WebSocket upgrades pass through, subprotocol included", async () => {
    const ws = new WebSocket(`${stack.gateway.url.replace("http", "ws")}${PREFIX}/ws`, {
      headers: { authorization: `Bearer ${stack.apiKeys["alice"]}` },
      protocols: ["echo"],
    } as Bun.WebSocketOptions);
    const replies: string[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => ws.send("hello");
      ws.onmessage = (ev) => {
        replies.push(String(ev.data));
        if (replies.length === 1) ws.send("again");
        else resolve();
      };
      ws.onerror = () => reject(new Error("websocket failed"));
    });
    expect(ws.protocol).toBe("echo");
    expect(replies).toEqual(["echo:hello", "echo:again"]);
    ws.close();
    const noKey = new WebSocket(`${stack.gateway.url.replace("http", "ws")}${PREFIX}/ws`);
    const refused = await new Promise<boolean>((resolve) => {
      noKey.onopen = () => resolve(false);
      noKey.onerror = () => resolve(true);
    });
    expect(refused).toBe(true);
  });

  test("a token captured from one sandbox is rejected by another", async () => {
    const res = await invoke("/capture");
    const echo = (await res.json()) as Echo;
    const captured = echo.headers["authorization"] as string;
    const korokd = stack.korokds[0];
    if (korokd === undefined) throw new Error("the stack has no korokd pod");
    const replay = await fetch(`${korokd.url}/api/execute`, {
      method: "POST",
      headers: { authorization: captured, "content-type": "application/json" },
      body: JSON.stringify({ language: "python", code: "print('stolen')" }),
    });
    expect(replay.status).toBe(401);
    expect(((await replay.json()) as { error: { code: string } }).error.code).toBe("token_wrong_audience");
    await expect(jwtVerify(captured.slice(7), await jwks(), { audience: korokd.identity })).rejects.toThrow();
  });

  test("probes and metrics are served without a key and describe what happened", async () => {
    expect((await fetch(`${stack.gateway.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${stack.gateway.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready", checks: { agentcore: true, signing_key: true } });
    const own = await fetch(`${stack.gateway.url}/readyz?exclude=agentcore`);
    expect(await own.json()).toEqual({ status: "ready", checks: { signing_key: true } });
    const typo = await fetch(`${stack.gateway.url}/readyz?exclude=agentcor`);
    expect(typo.status).toBe(400);
    expect(((await typo.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: "invalid_request",
      message: "no readiness check named agentcor (known: agentcore, signing_key)",
    });
    const metrics = await (await fetch(`${stack.gateway.url}/metrics`)).text();
    expect(metrics).toContain(
      `agentland_gateway_requests_total{route="${PREFIX}/*",method="POST",status="200"}`,
    );
    expect(metrics).toMatch(/agentland_gateway_sessions_created_total\{kind="agent",warm="false"\} \d+/);
    expect(metrics).toContain(`agentland_gateway_upstream_latency_seconds_count{route="${PREFIX}/*"}`);
    expect(metrics).toContain('route="unmatched"');
  });
});

/** How far the gateway's RSS rose above its level before `work`, sampled every 10 ms. */
async function peakGrowth(work: () => Promise<void>): Promise<number> {
  const baseline = stack.gateway.rss();
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, stack.gateway.rss());
  }, 10);
  try {
    await work();
  } finally {
    clearInterval(sampler);
  }
  return Math.max(peak, stack.gateway.rss()) - baseline;
}

/** Sends a request with a literal request target (no client-side URL normalization). */
function rawRequest(
  base: string,
  target: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => {
      const lines = [`GET ${target} HTTP/1.1`, `host: ${hostname}:${port}`, "connection: close"];
      for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
      socket.write(`${lines.join("\r\n")}\r\n\r\n`);
    });
    let data = "";
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => {
      data += d;
    });
    socket.on("error", reject);
    socket.on("close", () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0);
      const head = data.indexOf("\r\n\r\n");
      const rawBody = data.slice(head + 4);
      const chunked = /transfer-encoding: chunked/i.test(data.slice(0, head));
      resolve({ status, body: chunked ? dechunk(rawBody) : rawBody });
    });
  });
}

function dechunk(text: string): string {
  let out = "";
  let rest = text;
  for (;;) {
    const eol = rest.indexOf("\r\n");
    const size = Number.parseInt(rest.slice(0, eol), 16);
    if (!size) return out;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
}
