/**
 * Which headers cross the proxy. Hop-by-hop headers (RFC 9110 §7.6.1: Connection and every header it
 * names, plus Keep-Alive, Proxy-Connection, TE, Trailer, Transfer-Encoding, Upgrade) apply to one
 * connection only and are dropped both ways. The client's credentials (Authorization, Cookie, x-api-key)
 * and agentland's own routing headers never reach a sandbox; the gateway adds the sandbox token, the
 * session id, `x-request-id` and `X-Forwarded-For/Proto/Host` instead. A sandbox cannot set cookies on the
 * gateway's origin, since cookies are never sent back to it.
 */

const HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
];

const NEVER_UPSTREAM = new Set([
  ...HOP_BY_HOP,
  "host",
  "authorization",
  "cookie",
  "x-api-key",
  "expect",
  "x-agentland-session",
  "x-agentland-runtime",
  "x-agentland-runtime-namespace",
  "x-request-id",
  "x-forwarded-proto",
  "x-forwarded-host",
]);

const NEVER_DOWNSTREAM = new Set([...HOP_BY_HOP, "set-cookie", "x-agentland-session", "x-request-id"]);

export interface UpstreamContext {
  readonly token: string;
  readonly sessionId: string;
  readonly requestId: string;
  /** The client's address as the gateway saw it; appended to X-Forwarded-For. */
  readonly clientIp: string | undefined;
  readonly proto: "http" | "https";
  readonly host: string | null;
}

/** Header field lines, names lower-case, in order (what the upstream client writes and `Response` takes). */
export type FieldLines = [string, string][];

/**
 * The request headers a sandbox receives, in one pass over the client's (no intermediate `Headers`: this
 * runs on every proxied request).
 */
export function upstreamHeaders(incoming: Headers, ctx: UpstreamContext): FieldLines {
  const connection = incoming.get("connection");
  const named = connection === null ? undefined : connectionTokens(connection);
  const out: FieldLines = [];
  let priorForwardedFor: string | undefined;
  let acceptEncoding = false;
  for (const [name, value] of incoming) {
    if (NEVER_UPSTREAM.has(name) || named?.has(name)) continue;
    if (name === "x-forwarded-for") {
      priorForwardedFor = priorForwardedFor === undefined ? value : `${priorForwardedFor}, ${value}`;
      continue;
    }
    if (name === "accept-encoding") acceptEncoding = true;
    out.push([name, value]);
  }
  out.push(["authorization", `Bearer ${ctx.token}`]);
  out.push(["x-agentland-session", ctx.sessionId]);
  out.push(["x-request-id", ctx.requestId]);
  if (ctx.clientIp !== undefined) {
    out.push(["x-forwarded-for", priorForwardedFor ? `${priorForwardedFor}, ${ctx.clientIp}` : ctx.clientIp]);
  } else if (priorForwardedFor !== undefined) out.push(["x-forwarded-for", priorForwardedFor]);
  out.push(["x-forwarded-proto", ctx.proto]);
  if (ctx.host !== null) out.push(["x-forwarded-host", ctx.host]);
  // Bun's fetch asks for compressed answers when the caller names no encoding; the proxy passes bodies
  // through undecoded, so it must not ask for an encoding the client did not.
  if (!acceptEncoding) out.push(["accept-encoding", "identity"]);
  return out;
}

/** Header fields by lower-case name, repeated fields comma-joined (RFC 9110 §5.3). */
export type HeaderRecord = Record<string, string>;

/**
 * The response headers the client receives, from the sandbox's field lines (names lower-case). A record
 * rather than field lines: `Response` takes a record in about half the time (this runs on every proxied
 * request), and the one field that may not be comma-joined, Set-Cookie, never passes anyway. Without a
 * prototype, so that no field name (`__proto__`) is special.
 */
export function downstreamHeaders(
  upstream: readonly (readonly [string, string])[],
  sessionId: string,
  requestId: string,
): HeaderRecord {
  const connection = fieldValue(upstream, "connection");
  const named = connection === null ? undefined : connectionTokens(connection);
  const out: HeaderRecord = Object.create(null);
  for (const [name, value] of upstream) {
    if (NEVER_DOWNSTREAM.has(name) || named?.has(name)) continue;
    const prior = out[name];
    out[name] = prior === undefined ? value : `${prior}, ${value}`;
  }
  out["x-agentland-session"] = sessionId;
  out["x-request-id"] = requestId;
  return out;
}

/** The combined value of a field in a field-line list (comma-joined, as RFC 9110 §5.3 allows). */
export function fieldValue(lines: readonly (readonly [string, string])[], name: string): string | null {
  let value: string | null = null;
  for (const [n, v] of lines) if (n === name) value = value === null ? v : `${value}, ${v}`;
  return value;
}

/** Header names listed in `Connection` (RFC 9110 §7.6.1), lower-cased; undefined when there are none. */
function connectionTokens(value: string): Set<string> | undefined {
  const names = value
    .split(",")
    .map((t) => t.trim().toLowerCase())
    .filter((t) => t !== "" && t !== "close" && t !== "keep-alive");
  return names.length === 0 ? undefined : new Set(names);
}
