/**
 * `/api/code-runner`: runs code in a code-interpreter session (created on the first call, reused with
 * `x-agentland-session`) and passes the context API through to the session's korokd. Korokd's answer,
 * JSON or SSE, streams back unchanged; its error answers get the request id added, and a token it rejects
 * becomes a 502 (the client cannot fix that, and a 401 would blame the client's API key).
 */
import { type Context, Hono } from "hono";
import { type Session, SessionKind } from "../../gen/agentland/agentcore/v1/agentcore_pb";
import type { GatewayEnv } from "../gateway-env";
import { GatewayError } from "../gateway-error";
import { relayedErrorResponse } from "../on-error";
import { fieldValue } from "../proxy/proxy-headers";
import { type ClientRequest, proxyToSession, type UpstreamAnswer } from "../proxy/proxy-to-session";
import { clientRequest } from "./client-request";
import { readJsonBody, readLimitedBody } from "./read-json-body";
import { type RouteDeps, SESSION_HEADER } from "./route-deps";
import { RunBody } from "./run-body";

/** Extra time over a run's own timeout before the gateway gives up waiting for korokd's answer. */
const RUN_DEADLINE_MARGIN_MS = 10_000;
/** The metrics label of `/run` (the pattern Hono's route matching gives it). */
export const RUN_ROUTE = "/api/code-runner/run";
/** Korokd's context API: `/`, `/:id`, `/:id/interrupt`, `/:id/restart` — nothing else is passed on. */
const CONTEXT_PATH =
  /^\/api\/code-runner\/contexts((?:\/[A-Za-z0-9_-]{1,128}(?:\/(?:interrupt|restart))?)?)\/?$/;

export function codeRunnerRoutes(deps: RouteDeps): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();

  app.post("/run", async function runCode(c) {
    const body = await readJsonBody(c.req.raw, RunBody, deps.runBodyLimitBytes);
    const session = await codeSession(c, deps, true);
    return runInSession(clientRequest(c), session, body, deps);
  });

  app.on(["GET", "POST", "DELETE"], ["/contexts", "/contexts/*"], async function contextsPassThrough(c) {
    const match = CONTEXT_PATH.exec(c.req.path);
    if (match === null) throw new GatewayError("not_found", `no route for ${c.req.method} ${c.req.path}`);
    const suffix = match[1] ?? "";
    const creating = c.req.method === "POST" && suffix === "";
    const session = await codeSession(c, deps, creating);
    const body = c.req.method === "POST" ? await readLimitedBody(c.req.raw, deps.runBodyLimitBytes) : null;
    const headers = new Headers({ accept: "application/json" });
    if (body !== null) headers.set("content-type", c.req.header("content-type") ?? "application/json");
    const answer = await proxyToSession(
      clientRequest(c),
      session,
      {
        pathAndQuery: `/api/contexts${suffix}`,
        method: c.req.method,
        body,
        headers,
        firstByteTimeoutMs: deps.upstreamTimeoutMs,
        route: "/api/code-runner/contexts",
      },
      deps,
    );
    return korokdAnswer(answer, session, c.get("requestId"));
  });

  return app;
}

/** What korokd is sent with a run (only ever read: shared by all requests). */
const RUN_HEADERS_JSON = new Headers({ "content-type": "application/json", accept: "application/json" });
const RUN_HEADERS_SSE = new Headers({ "content-type": "application/json", accept: "text/event-stream" });

/**
 * A validated run in its session: korokd's answer, JSON or (with `Accept: text/event-stream`) SSE. Shared
 * by the Hono route and the fast path.
 */
export async function runInSession(
  client: ClientRequest,
  session: Session,
  body: RunBody,
  deps: RouteDeps,
): Promise<Response> {
  const streaming = client.raw.headers.get("accept")?.includes("text/event-stream") === true;
  const headers = streaming ? RUN_HEADERS_SSE : RUN_HEADERS_JSON;
  const runDeadline = (body.timeout_ms ?? 0) + RUN_DEADLINE_MARGIN_MS;
  const answer = await proxyToSession(
    client,
    session,
    {
      pathAndQuery: "/api/execute",
      method: "POST",
      body: JSON.stringify(body),
      headers,
      firstByteTimeoutMs: streaming ? deps.upstreamTimeoutMs : Math.max(deps.upstreamTimeoutMs, runDeadline),
      route: RUN_ROUTE,
    },
    deps,
  );
  return korokdAnswer(answer, session, client.requestId);
}

/** The session named by the header, or (when allowed) a new one. */
async function codeSession(c: Context<GatewayEnv>, deps: RouteDeps, mayCreate: boolean): Promise<Session> {
  const id = c.req.header(SESSION_HEADER)?.trim();
  const principal = c.get("principal");
  const signal = c.req.raw.signal;
  let session: Session;
  if (id) session = await deps.sessions.resolve(principal, id, SessionKind.CODE_INTERPRETER);
  else if (mayCreate) session = await deps.sessions.createCodeInterpreter(principal, signal);
  else throw new GatewayError("invalid_request", `${SESSION_HEADER} is required for this call`);
  c.set("sessionId", session.id);
  return session;
}

async function korokdAnswer(answer: UpstreamAnswer, session: Session, requestId: string): Promise<Response> {
  const { upstream } = answer;
  if (upstream.status === 401 || upstream.status === 403) {
    answer.discard();
    throw new GatewayError(
      "sandbox_rejected_token",
      "the sandbox rejected the gateway's token, retry shortly",
      {
        sessionId: session.id,
        retryAfterSeconds: 1,
      },
    );
  }
  if (upstream.status < 400 || !fieldValue(upstream.headers, "content-type")?.includes("application/json")) {
    return answer.toClient();
  }
  const relayed = await answer.toClient().text();
  let error: { code?: unknown; message?: unknown } | undefined;
  try {
    error = (JSON.parse(relayed) as { error?: { code?: unknown; message?: unknown } }).error;
  } catch {
    error = undefined;
  }
  return relayedErrorResponse(
    {
      status: upstream.status,
      code: typeof error?.code === "string" ? error.code : "sandbox_error",
      message: typeof error?.message === "string" ? error.message : "the sandbox reported an error",
      retryAfter: fieldValue(upstream.headers, "retry-after"),
    },
    requestId,
    session.id,
  );
}
