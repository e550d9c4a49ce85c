/** The one place a korokd error becomes an HTTP response; anything unexpected is a 500 without details. */
import type { Context } from "hono";
import type { Logger } from "../../log/logger";
import { KorokdError } from "../korokd-error";

export function errorResponse(c: Context, err: unknown, log: Logger): Response {
  const known =
    err instanceof KorokdError ? err : new KorokdError("internal", "internal error", { cause: err });
  if (known.status === 500) {
    log.error("request failed", {
      method: c.req.method,
      path: c.req.path,
      code: known.code,
      error: String(known.cause instanceof Error ? known.cause.stack : (known.cause ?? known.message)),
    });
  }
  if (known.retryAfterSeconds !== undefined) c.header("Retry-After", String(known.retryAfterSeconds));
  return c.json(known.toBody(), known.status);
}
