/**
 * Pre-dispatch of the gateway's hottest request ahead of Hono: an agent invocation in an existing session
 * (`x-agentland-session` set, not a WebSocket upgrade). It runs what the Hono app runs for that request —
 * request id, metrics, client authentication, path check, session lookup, proxy — through the same
 * functions and the same error answers, without Hono's per-request context, routing and middleware chain
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
import { agentPath, INVOCATIONS_PREFIX, INVOCATIONS_ROUTE, invokeInSession } from "./routes/invocations";
import { SESSION_HEADER } from "./routes/route-deps";

/** Answers the request, or returns undefined to leave it to the Hono app. */
// biome-ignore lint/suspicious/noExplicitAny: Bun's websocket data type is chosen per server.
export type FastPath = (request: Request, server: Server<any>) => Promise<Response> | undefined;

const SLASH = 0x2f;
const QUESTION_MARK = 0x3f;

export function createFastPath(deps: AppDeps): FastPath {
  const answerError = errorAnswerer(deps.log);

  async function invoke(
    request: Request,
    // biome-ignore lint/suspicious/noExplicitAny: see FastPath.
    server: Server<any>,
    sessionHeader: string,
  ): Promise<Response> {
    const requestId = acceptedRequestId(request.headers.get("x-request-id"));
    let sessionId: string | undefined;
    let response: Response;
    deps.metrics.inFlight(1);
    try {
      const principal = principalOf(request.headers, deps.auth);
      const pathAndQuery = agentPath(request.url);
      const session = await deps.sessions.resolve(principal, sessionHeader, SessionKind.AGENT);
      sessionId = session.id;
      const client = { raw: request, requestId, clientIp: clientAddress(server, request) };
      response = await invokeInSession(client, session, pathAndQuery, deps);
    } catch (err) {
      response = answerError(err, { requestId, sessionId, path: new URL(request.url).pathname });
    } finally {
      deps.metrics.inFlight(-1);
    }
    // The label Hono's route matching gives these requests (the bare prefix included).
    deps.metrics.request(INVOCATIONS_ROUTE, request.method, response.status);
    return response;
  }

  return function fastPath(request, server) {
    const url = request.url;
    const pathStart = url.indexOf("/", url.indexOf("://") + 3);
    if (pathStart === -1 || !url.startsWith(INVOCATIONS_PREFIX, pathStart)) return undefined;
    // The prefix alone, `…/…` or `…?…`; anything else (`…/invocationsX`) is not this route.
    const after = url.charCodeAt(pathStart + INVOCATIONS_PREFIX.length);
    if (!(Number.isNaN(after) || after === SLASH || after === QUESTION_MARK)) return undefined;
    const sessionHeader = request.headers.get(SESSION_HEADER)?.trim();
    if (!sessionHeader || isWebSocketUpgrade(request)) return undefined;
    return invoke(request, server, sessionHeader);
  };
}
