/**
 * `/api/code-runner` against the real stack: gateway process, AgentCore, korokd processes as sandbox pods,
 * keys and JWKS on the local apiserver.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CODE_INTERPRETERS } from "../../api/resource-types";
import { type GatewayStack, startGatewayStack } from "../testing/gateway-stack";
import { eventually } from "../testing/processes";

let stack: GatewayStack;

beforeAll(async () => {
  stack = await startGatewayStack({
    korokds: 2,
    agents: 0,
    gatewayArgs: ["--max-sessions-per-principal=3", "--run-body-limit-bytes=65536"],
    principals: ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"],
  });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

interface CallInit extends RequestInit {
  readonly as?: string;
  readonly sessionId?: string;
}

function call(path: string, { as, sessionId, ...init }: CallInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (as !== undefined) headers.set("authorization", `Bearer ${stack.apiKeys[as]}`);
  if (sessionId !== undefined) headers.set("x-agentland-session", sessionId);
  return fetch(`${stack.gateway.url}${path}`, { ...init, headers });
}

const run = (
  body: unknown,
  opts: { as?: string; session?: string; headers?: Record<string, string>; signal?: AbortSignal } = {},
) =>
  call("/api/code-runner/run", {
    method: "POST",
    body: typeof body === "string" ? body : JSON.stringify(body),
    headers: { "content-type": "application/json", ...opts.headers },
    as: opts.as ?? "alice",
    ...(opts.session ? { sessionId: opts.session } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });

async function sessionCount(): Promise<number> {
  return (await stack.kube.resource(CODE_INTERPRETERS).list({ namespace: stack.ns })).items.length;
}

describe("code runner", () => {
  test("a run without a session creates one and returns korokd's result with the session id", async () => {
    const res = await run({ language: "python", code: "print(1+1)" });
    expect(res.status).toBe(200);
    const session = res.headers.get("x-agentland-session");
    expect(session).toMatch(/^ci-/);
    expect(res.headers.get("x-request-id")).toBeTruthy();
    const body = (await res.json()) as { exit_code: number; stdout: string; stderr: string };
    expect(body.exit_code).toBe(0);
    expect(body.stdout).toBe("2\n");
  });

  test("x-agentland-session reuses the same sandbox", async () => {
    const first = await run({ language: "python", code: "import os; print(os.getcwd())" });
    const session = first.headers.get("x-agentland-session") as string;
    const marker = `reuse-${crypto.randomUUID()}`;
    await run({ language: "bash", code: `echo hi > ${marker}` }, { session });
    const again = await run({ language: "bash", code: `cat ${marker}` }, { session });
    expect(again.status).toBe(200);
    expect(again.headers.get("x-agentland-session")).toBe(session);
    expect(((await again.json()) as { stdout: string }).stdout).toBe("hi\n");
  });

  test("another principal's session is 404 session_not_found and creates nothing", async () => {
    const own = await run({ language: "python", code: "print(1)" });
    const session = own.headers.get("x-agentland-session") as string;
    const before = await sessionCount();
    const res = await run({ language: "python", code: "print(1)" }, { as: "bob", session });
    expect(res.status).toBe(404);
    const body = (await res.json()) as { error: { code: string; message: string; request_id: string } };
    expect(body.error.code).toBe("session_not_found");
    expect(body.error.request_id).toBe(res.headers.get("x-request-id") as string);
    expect(await sessionCount()).toBe(before);
    const listed = (await (await call("/api/sessions", { as: "bob" })).json()) as {
      sessions: { id: string }[];
    };
    expect(listed.sessions.map((s) => s.id)).not.toContain(session);
    expect((await call(`/api/sessions/${session}`, { as: "bob" })).status).toBe(404);
    expect((await call(`/api/sessions/${session}`, { as: "bob", method: "DELETE" })).status).toBe(404);
    expect((await call(`/api/sessions/${session}`, { as: "alice" })).status).toBe(200);
  });

  test("unknown and malformed session ids are 404, never a silent new sandbox", async () => {
    const before = await sessionCount();
    for (const id of ["ci-doesnotexist0000000000", "../../etc", "CI-UPPER", "x".repeat(300)]) {
      const res = await run({ language: "python", code: "print(1)" }, { session: id });
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("session_not_found");
    }
    expect(await sessionCount()).toBe(before);
  });

  test("a deleted session is 404 afterwards", async () => {
    const created = await run({ language: "python", code: "print(1)" }, { as: "ivan" });
    const session = created.headers.get("x-agentland-session") as string;
    const listed = (await (await call("/api/sessions", { as: "ivan" })).json()) as {
      sessions: { id: string; kind: string; phase: string }[];
    };
    expect(listed.sessions.find((s) => s.id === session)).toMatchObject({
      kind: "code-interpreter",
      phase: "Ready",
    });
    const del = await call(`/api/sessions/${session}`, { as: "ivan", method: "DELETE" });
    expect(del.status).toBe(204);
    const res = await run({ language: "python", code: "print(1)" }, { as: "ivan", session });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("session_not_found");
  });

  test("a missing or invalid API key is 401 and creates nothing", async () => {
    const before = await sessionCount();
    const missing = await fetch(`${stack.gateway.url}/api/code-runner/run`, {
      method: "POST",
      body: JSON.stringify({ language: "python", code: "print(1)" }),
    });
    expect(missing.status).toBe(401);
    const body = (await missing.json()) as { error: { code: string; message: string; request_id: string } };
    expect(body.error.code).toBe("api_key_missing");
    expect(body.error.request_id).toBeTruthy();
    for (const headers of [
      { authorization: "Bearer agl_not-a-real-key" },
      { "x-api-key": "agl_not-a-real-key" },
      { authorization: `Basic ${btoa("alice:secret")}` },
    ]) {
      const res = await fetch(`${stack.gateway.url}/api/sessions`, { headers });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("api_key_invalid");
    }
    const viaHeader = await fetch(`${stack.gateway.url}/api/sessions`, {
      headers: { "x-api-key": stack.apiKeys["alice"] as string },
    });
    expect(viaHeader.status).toBe(200);
    expect(await sessionCount()).toBe(before);
  });

  test("the per-principal session limit answers 429 quota_exceeded and creates nothing more", async () => {
    for (let i = 0; i < 3; i++)
      expect((await run({ language: "sh", code: "true" }, { as: "carol" })).status).toBe(200);
    const before = await sessionCount();
    const res = await run({ language: "sh", code: "true" }, { as: "carol" });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBeTruthy();
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("quota_exceeded");
    expect(await sessionCount()).toBe(before);
    // Other principals are not affected.
    expect((await run({ language: "sh", code: "true" }, { as: "dave" })).status).toBe(200);
  });

  test("an oversize body is 413, malformed JSON and bad fields are 400 naming the problem; nothing is created", async () => {
    const before = await sessionCount();
    const big = await run({ language: "python", code: `print("${"x".repeat(70_000)}")` });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: { code: string } }).error.code).toBe("body_too_large");
    const chunked = await call("/api/code-runner/run", {
      method: "POST",
      as: "alice",
      body: new Blob(['{"language":"python","code":"', "y".repeat(70_000), '"}']).stream(),
    });
    expect(chunked.status).toBe(413);
    const malformed = await run('{"language": "python", "code": ');
    expect(malformed.status).toBe(400);
    const m = (await malformed.json()) as { error: { code: string; message: string } };
    expect(m.error.code).toBe("invalid_json");
    expect(m.error.message).toContain("not valid JSON");
    const noLanguage = await run({ code: "print(1)" });
    expect(noLanguage.status).toBe(400);
    expect(((await noLanguage.json()) as { error: { message: string } }).error.message).toContain("language");
    const badTimeout = await run({ language: "python", code: "1", timeout_ms: "soon" });
    expect(((await badTimeout.json()) as { error: { message: string } }).error.message).toContain(
      "timeout_ms",
    );
    expect(await sessionCount()).toBe(before);
  });

  test("a run in an existing session (the gateway's fast path) answers bad requests as a new run does", async () => {
    const first = await run({ language: "python", code: "print(1)" }, { as: "judy" });
    expect(first.status).toBe(200);
    const session = first.headers.get("x-agentland-session") as string;
    const noKey = await fetch(`${stack.gateway.url}/api/code-runner/run`, {
      method: "POST",
      headers: { "x-agentland-session": session, "x-request-id": "trace-run-1" },
      body: JSON.stringify({ language: "python", code: "print(1)" }),
    });
    expect(noKey.status).toBe(401);
    expect(((await noKey.json()) as { error: { code: string; request_id: string } }).error).toMatchObject({
      code: "api_key_missing",
      request_id: "trace-run-1",
    });
    const big = await run(
      { language: "python", code: `print("${"x".repeat(70_000)}")` },
      { as: "judy", session },
    );
    expect(big.status).toBe(413);
    const chunked = await call("/api/code-runner/run", {
      method: "POST",
      as: "judy",
      sessionId: session,
      body: new Blob(['{"language":"python","code":"', "y".repeat(70_000), '"}']).stream(),
    });
    expect(chunked.status).toBe(413);
    const malformed = await run('{"language": "python", "code": ', { as: "judy", session });
    expect(((await malformed.json()) as { error: { code: string } }).error.code).toBe("invalid_json");
    const badTimeout = await run(
      { language: "python", code: "1", timeout_ms: "soon" },
      { as: "judy", session },
    );
    expect(badTimeout.status).toBe(400);
    expect(((await badTimeout.json()) as { error: { message: string } }).error.message).toContain(
      "timeout_ms",
    );
    const ok = await run(
      { language: "python", code: "print(6*7)" },
      { as: "judy", session, headers: { "x-request-id": "trace-run-2" } },
    );
    expect(ok.headers.get("x-request-id")).toBe("trace-run-2");
    expect(ok.headers.get("x-agentland-session")).toBe(session);
    expect(((await ok.json()) as { stdout: string }).stdout).toBe("42\n");
    const metrics = await (await fetch(`${stack.gateway.url}/metrics`)).text();
    expect(metrics).toMatch(
      /agentland_gateway_requests_total\{route="\/api\/code-runner\/run",method="POST",status="413"\} [1-9]/,
    );
  });

  test("korokd's own errors reach the client with its code and the request id", async () => {
    const res = await run({ language: "cobol", code: "DISPLAY 'HI'." }, { as: "erin" });
    expect(res.status).toBe(400);
    expect(res.headers.get("x-agentland-session")).toMatch(/^ci-/);
    const body = (await res.json()) as { error: { code: string; request_id: string } };
    expect(body.error.code).toBe("unsupported_language");
    expect(body.error.request_id).toBe(res.headers.get("x-request-id") as string);
  });

  test("a streaming run delivers the first event before the run ends", async () => {
    const gate = `gate-${crypto.randomUUID()}`;
    const code = [
      "import os, time",
      'print("first", flush=True)',
      `while not os.path.exists(${JSON.stringify(gate)}): time.sleep(0.02)`,
      'print("second", flush=True)',
    ].join("\n");
    const res = await run(
      { language: "python", code },
      { as: "frank", headers: { accept: "text/event-stream" } },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    expect(res.headers.get("x-agentland-session")).toMatch(/^ci-/);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = "";
    while (!text.includes("first")) text += decoder.decode((await reader.read()).value, { stream: true });
    // The run is still waiting for the gate: the event can only have come through unbuffered.
    expect(text).not.toContain("event: exit");
    for (const pod of stack.korokds) writeFileSync(join(pod.workspace, gate), "");
    while (!text.includes("event: exit")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    expect(text).toContain("second");
    expect(text).toMatch(/event: exit\ndata: \{[^\n]*"exit_code":0/);
  }, 30_000);

  test("a client that goes away kills its run in korokd", async () => {
    const marker = `pid-${crypto.randomUUID()}`;
    const code = `import os, time\nopen(${JSON.stringify(marker)}, "w").write(str(os.getpid()))\ntime.sleep(60)`;
    const abort = new AbortController();
    const pending = run(
      { language: "python", code, timeout_ms: 120_000 },
      { as: "grace", signal: abort.signal },
    ).catch(() => undefined);
    const pidFile = await eventually("the run to start", async () =>
      stack.korokds
        .map((p) => join(p.workspace, marker))
        .find((f) => existsSync(f) && readFileSync(f, "utf8") !== ""),
    );
    const pid = Number(readFileSync(pidFile, "utf8"));
    expect(alive(pid)).toBe(true);
    abort.abort();
    await pending;
    await eventually("korokd to kill the abandoned run", async () => (alive(pid) ? undefined : true), 10_000);
  }, 30_000);

  test("the context API passes through to the session's korokd and keeps state between runs", async () => {
    const created = await call("/api/code-runner/contexts", {
      method: "POST",
      as: "heidi",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ language: "python" }),
    });
    expect(created.status).toBe(201);
    const session = created.headers.get("x-agentland-session") as string;
    const { id } = (await created.json()) as { id: string };
    await run({ language: "python", code: "x = 41", context_id: id }, { session, as: "heidi" });
    const res = await run(
      { language: "python", code: "print(x + 1)", context_id: id },
      { session, as: "heidi" },
    );
    expect(((await res.json()) as { stdout: string }).stdout).toBe("42\n");
    const listed = await call("/api/code-runner/contexts", { as: "heidi", sessionId: session });
    expect(((await listed.json()) as { contexts: { id: string }[] }).contexts.map((c) => c.id)).toContain(id);
    expect(
      (
        await call(`/api/code-runner/contexts/${id}/restart`, {
          method: "POST",
          as: "heidi",
          sessionId: session,
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await call(`/api/code-runner/contexts/${id}/explode`, {
          method: "POST",
          as: "heidi",
          sessionId: session,
        })
      ).status,
    ).toBe(404);
    expect(
      (await call(`/api/code-runner/contexts/${id}`, { method: "DELETE", as: "heidi", sessionId: session }))
        .status,
    ).toBe(204);
    expect((await call("/api/code-runner/contexts", { as: "alice" })).status).toBe(400);
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
