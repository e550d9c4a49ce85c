/**
 * Pre-dispatch of the gateway's hottest requests ahead of Hono: an agent invocation in an existing session
 * (`x-agentland-session` set, not a WebSocket upgrade) and `POST /api/code-runner/run` in an existing
 * session. It runs what the Hono app runs for those requests — request id, metrics, client
 * authentication, path check or body validation, session lookup, proxy — through the same functions and the same error answers, without Hono's per-request context, routing and middleware chain
 * (at thousands of small requests per second those cost about as much CPU as the proxying itself).
 * Anything else, including every request this path does not recognise, goes to the Hono app unchanged.
 */
import type { Server } from "bun";
import { SessionKind } from "../gen/agentland/agentcore/v1/agentcore_pb";
import type { AppDeps } from "./create-app";
import { principalOf } from "./middleware/authenticate";
import { acceptedRequestId } from "./middleware/request-id";
import { errorAnswerer } from "./on-error";
import { isWebSocketUpgrade } from "./proxy/websocket-proxy";
import { clientAddress } from "./routes/client-request";
import { RUN_ROUTE, runInSession } from "./routes/code-runner";
import { agentPath, INVOCATIONS_PREFIX, INVOCATIONS_ROUTE, invokeInSession } from "./routes/invocations";
import { readJsonBody } from "./routes/read-json-body";
import { SESSION_HEADER } from "./routes/route-deps";
import { RunBody } from "./routes/run-body";

/** Answers the request, or returns undefined to leave it to the Hono app. */
// biome-ignore lint/suspicious/noExplicitAny: Bun's websocket data type is chosen per server.
export type FastPath = (request: Request, server: Server<any>) => Promise<Response> | undefined;

const SLASH = 0x2f;
const QUESTION_MARK = 0x3f;

export function createFastPath(deps: AppDeps): FastPath {
  const answerError = errorAnswerer(deps.log);

  /** What both hot routes share: request id, in-flight count, key check, error answer, request metric. */
  async function serve(
    request: Request,
    route: string,
    handle: (principal: string, requestId: string, sessionSeen: (id: string) => void) => Promise<Response>,
  ): Promise<Response> {
    const requestId = acceptedRequestId(request.headers.get("x-request-id"));
    let sessionId: string | undefined;
    let response: Response;
    deps.metrics.inFlight(1);
    try {
      const principal = principalOf(request.headers, deps.auth);
      response = await handle(principal, requestId, (id) => {
        sessionId = id;
      });
    } catch (err) {
      response = answerError(err, { requestId, sessionId, path: new URL(request.url).pathname });
    } finally {
      deps.metrics.inFlight(-1);
    }
    deps.metrics.request(route, request.method, response.status);
    return response;
  }

  // biome-ignore lint/suspicious/noExplicitAny: see FastPath.
  function invoke(request: Request, server: Server<any>, sessionHeader: string): Promise<Response> {
    // The label Hono's route matching gives these requests (the bare prefix included).
    return serve(request, INVOCATIONS_ROUTE, async (principal, requestId, sessionSeen) => {
      const pathAndQuery = agentPath(request.url);
      const session = await deps.sessions.resolve(principal, sessionHeader, SessionKind.AGENT);
      sessionSeen(session.id);
      const client = { raw: request, requestId, clientIp: clientAddress(server, request) };
      return invokeInSession(client, session, pathAndQuery, deps);
    });
  }

  // biome-ignore lint/suspicious/noExplicitAny: see FastPath.
  function run(request: Request, server: Server<any>, sessionHeader: string): Promise<Response> {
    // The Hono route's order: the body is validated before the session is looked up.
    return serve(request, RUN_ROUTE, async (principal, requestId, sessionSeen) => {
      const body = await readJsonBody(request, RunBody, deps.runBodyLimitBytes);
      const session = await deps.sessions.resolve(principal, sessionHeader, SessionKind.CODE_INTERPRETER);
      sessionSeen(session.id);
      const client = { raw: request, requestId, clientIp: clientAddress(server, request) };
      return runInSession(client, session, body, deps);
    });
  }

  return function fastPath(request, server) {
    const url = request.url;
    const pathStart = url.indexOf("/", url.indexOf("://") + 3);
    if (pathStart === -1) return undefined;
    if (url.startsWith(INVOCATIONS_PREFIX, pathStart)) {
      // The prefix alone, `…/…` or `…?…`; anything else (`…/invocationsX`) is not this route.
      if (!endsSegment(url, pathStart + INVOCATIONS_PREFIX.length, true)) return undefined;
      const sessionHeader = request.headers.get(SESSION_HEADER)?.trim();
      if (!sessionHeader || isWebSocketUpgrade(request)) return undefined;
      return invoke(request, server, sessionHeader);
    }
    if (request.method === "POST" && url.startsWith(RUN_ROUTE, pathStart)) {
      if (!endsSegment(url, pathStart + RUN_ROUTE.length, false)) return undefined;
      const sessionHeader = request.headers.get(SESSION_HEADER)?.trim();
      if (!sessionHeader) return undefined;
      return run(request, server, sessionHeader);
    }
    return undefined;
  };
}

/** Whether the path ends at `at` (end of URL or query), or continues below it when `deeper` is allowed. */
function endsSegment(url: string, at: number, deeper: boolean): boolean {
  const next = url.charCodeAt(at);
  return Number.isNaN(next) || next === QUESTION_MARK || (deeper && next === SLASH);
}
