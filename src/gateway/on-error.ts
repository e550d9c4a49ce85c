/**
 * The one place where failures become HTTP answers: `{error: {code, message, request_id}}` with the
 * status of the error's code, `Retry-After` where the client should retry, and `x-agentland-session` when
 * the request belonged to a session. Anything that is not a GatewayError is a bug: logged with its cause,
 * answered as a bare 500 without internals.
 */
import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import type { Logger } from "../log/logger";
import { describeError } from "./describe-error";
import type { GatewayEnv } from "./gateway-env";
import { GatewayError } from "./gateway-error";

export function errorResponse(err: GatewayError, requestId: string): Response {
  const headers = new Headers({ "content-type": "application/json" });
  if (err.retryAfterSeconds !== undefined) headers.set("retry-after", String(err.retryAfterSeconds));
  if (err.sessionId !== undefined) headers.set("x-agentland-session", err.sessionId);
  headers.set("x-request-id", requestId);
  const body = { error: { code: err.code, message: err.message, request_id: requestId } };
  return new Response(JSON.stringify(body), { status: err.status, headers });
}

/**
 * A sandbox's own error answer (e.g. korokd's `{error: {code, message}}`) relayed in the gateway's shape,
 * keeping its status and code and adding the request id.
 */
export function relayedErrorResponse(
  relayed: { status: number; code: string; message: string; retryAfter: string | null },
  requestId: string,
  sessionId: string,
): Response {
  const headers = new Headers({ "content-type": "application/json", "x-request-id": requestId });
  headers.set("x-agentland-session", sessionId);
  if (relayed.retryAfter !== null) headers.set("retry-after", relayed.retryAfter);
  const body = { error: { code: relayed.code, message: relayed.message, request_id: requestId } };
  return new Response(JSON.stringify(body), { status: relayed.status, headers });
}

/** What an error answer needs to know about the request it ends. */
export interface ErrorScope {
  readonly requestId: string;
  /** The session the request belonged to, once known. */
  readonly sessionId: string | undefined;
  /** Request path, for logs. */
  readonly path: string;
}

/** Turns any failure into the client's answer (and logs server-side failures). */
export function errorAnswerer(log: Logger): (err: unknown, scope: ErrorScope) => Response {
  return function answerError(err, { requestId, sessionId, path }) {
    if (err instanceof GatewayError) {
      if (err.status >= 500) {
        log.warn("request failed", {
          request_id: requestId,
          code: err.code,
          path,
          error: describeError(err),
        });
      }
      const withSession =
        err.sessionId === undefined && sessionId !== undefined
          ? new GatewayError(err.code, err.message, {
              sessionId,
              ...(err.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: err.retryAfterSeconds }),
            })
          : err;
      return errorResponse(withSession, requestId);
    }
    log.error("unexpected error", { request_id: requestId, path, error: describeError(err) });
    return errorResponse(new GatewayError("internal", "internal error"), requestId);
  };
}

export function onError(log: Logger): ErrorHandler<GatewayEnv> {
  const answerError = errorAnswerer(log);
  return function answerHonoError(err: Error, c: Context<GatewayEnv>) {
    return answerError(err, {
      requestId: c.get("requestId") ?? "",
      sessionId: c.get("sessionId"),
      path: c.req.path,
    });
  };
}

export function onNotFound(): NotFoundHandler<GatewayEnv> {
  return function answerNotFound(c) {
    const requestId = c.get("requestId") ?? "";
    return errorResponse(
      new GatewayError("not_found", `no route for ${c.req.method} ${c.req.path}`),
      requestId,
    );
  };
}
