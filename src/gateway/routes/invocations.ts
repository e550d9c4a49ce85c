/**
 * `/api/agent-sessions/invocations/*path`: any method, proxied to an agent session's sandbox with method,
 * path, query and body unchanged, bodies streaming both ways (uploads, chunked answers, SSE) and WebSocket
 * upgrades passed through. Without `x-agentland-session` a session of the requested runtime is created;
 * the runtime's namespace must be on the allow-list, checked before anything is created.
 */
import { type Context, Hono } from "hono";
import { type Session, SessionKind } from "../../gen/agentland/agentcore/v1/agentcore_pb";
import type { GatewayEnv } from "../gateway-env";
import { GatewayError } from "../gateway-error";
import { type ClientRequest, proxyToSession } from "../proxy/proxy-to-session";
import { isWebSocketUpgrade, proxyWebSocket } from "../proxy/websocket-proxy";
import type { RuntimeRef } from "../sessions/session-service";
import { clientRequest } from "./client-request";
import { type RouteDeps, SESSION_HEADER } from "./route-deps";

export const INVOCATIONS_PREFIX = "/api/agent-sessions/invocations";
/** The route pattern (metrics label) of every invocation below the prefix. */
export const INVOCATIONS_ROUTE = `${INVOCATIONS_PREFIX}/*`;
const KUBE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function invocationRoutes(deps: RouteDeps): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  const invoke = async function invokeAgent(c: Context<GatewayEnv>): Promise<Response> {
    const pathAndQuery = agentPath(c.req.url);
    const session = await agentSession(c, deps);
    if (isWebSocketUpgrade(c.req.raw)) {
      return proxyWebSocket(c, session, pathAndQuery, { ...deps, openTimeoutMs: deps.upstreamTimeoutMs });
    }
    return invokeInSession(clientRequest(c), session, pathAndQuery, deps);
  };
  app.all(INVOCATIONS_PREFIX, invoke);
  app.all(INVOCATIONS_ROUTE, invoke);
  return app;
}

/**
 * One invocation (not a WebSocket upgrade) in its session: method, path, query and body go to the agent
 * as they came, and its answer streams back. Shared by the Hono route and the fast path.
 */
export async function invokeInSession(
  client: ClientRequest,
  session: Session,
  pathAndQuery: string,
  deps: RouteDeps,
): Promise<Response> {
  const method = client.raw.method;
  const hasBody = method !== "GET" && method !== "HEAD";
  const answer = await proxyToSession(
    client,
    session,
    {
      pathAndQuery,
      method,
      body: hasBody ? client.raw.body : null,
      firstByteTimeoutMs: deps.upstreamTimeoutMs,
      route: INVOCATIONS_ROUTE,
    },
    deps,
  );
  return answer.toClient();
}

/**
 * The path and query the agent receives: everything after the prefix in the raw request target (still
 * percent-encoded; dot segments were already resolved when the URL was parsed). It is appended to the
 * pod's origin, so it can only ever select a path on that pod.
 */
export function agentPath(url: string): string {
  const pathStart = url.indexOf("/", url.indexOf("://") + 3);
  const target = pathStart === -1 ? "/" : url.slice(pathStart);
  if (!target.startsWith(INVOCATIONS_PREFIX)) {
    throw new GatewayError("not_found", "use the path /api/agent-sessions/invocations/<agent path>");
  }
  const rest = target.slice(INVOCATIONS_PREFIX.length);
  if (rest !== "" && !rest.startsWith("/") && !rest.startsWith("?")) {
    throw new GatewayError("not_found", "use the path /api/agent-sessions/invocations/<agent path>");
  }
  return rest.startsWith("/") ? rest : `/${rest}`;
}

async function agentSession(c: Context<GatewayEnv>, deps: RouteDeps): Promise<Session> {
  const id = c.req.header(SESSION_HEADER)?.trim();
  const principal = c.get("principal");
  const signal = c.req.raw.signal;
  const session = id
    ? await deps.sessions.resolve(principal, id, SessionKind.AGENT)
    : await deps.sessions.createAgentSession(principal, requestedRuntime(c, deps), signal);
  c.set("sessionId", session.id);
  return session;
}

/** Header, else query, else the configured default; the namespace must be allowed. */
export function requestedRuntime(c: Context<GatewayEnv>, deps: RouteDeps): RuntimeRef {
  const pick = (header: string, query: string) => {
    const value = c.req.header(header)?.trim() || c.req.query(query)?.trim();
    return value === "" ? undefined : value;
  };
  const name = pick("x-agentland-runtime", "runtime") ?? deps.defaultRuntime?.name;
  const namespace =
    pick("x-agentland-runtime-namespace", "runtime_namespace") ??
    deps.defaultRuntime?.namespace ??
    deps.defaultNamespace;
  if (name === undefined) {
    throw new GatewayError(
      "runtime_required",
      "name the agent runtime: header x-agentland-runtime or query runtime",
    );
  }
  if (!KUBE_NAME.test(name) || name.length > 253)
    throw new GatewayError("invalid_request", "runtime: not a valid name");
  if (!KUBE_NAME.test(namespace) || namespace.length > 63) {
    throw new GatewayError("invalid_request", "runtime_namespace: not a valid namespace name");
  }
  if (!deps.allowedNamespaces.has(namespace)) {
    throw new GatewayError("namespace_not_allowed", `namespace "${namespace}" is not open to agent sessions`);
  }
  return { name, namespace };
}
