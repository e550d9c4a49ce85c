/**
 * Korokd's HTTP surface. `/health` is open (the kubelet probes it); everything under `/api` needs the
 * gateway's token for this pod, checked before the body is even read.
 */
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Logger } from "../../log/logger";
import type { TokenVerifier } from "../auth/token-verifier";
import type { ContextRegistry } from "../contexts/context-registry";
import type { Executor } from "../exec/executor";
import { KorokdError } from "../korokd-error";
import { contextsRoutes } from "./contexts-routes";
import { errorResponse } from "./error-response";
import { executeHandler } from "./execute-route";

export interface HealthReport {
  readonly ready: boolean;
  readonly checks: Readonly<Record<string, boolean>>;
}

export interface AppOptions {
  readonly verifier: TokenVerifier;
  readonly executor: Executor;
  readonly contexts: ContextRegistry;
  readonly health: () => HealthReport;
  readonly bodyLimitBytes: number;
  readonly defaultTimeoutMs: number;
  readonly maxTimeoutMs: number;
  readonly heartbeatMs: number;
  readonly shutdown: AbortSignal;
  readonly log: Logger;
}

export function createApp(options: AppOptions): Hono {
  const { log } = options;
  const app = new Hono();
  app.onError((err, c) => errorResponse(c, err, log));
  app.notFound((c) =>
    errorResponse(c, new KorokdError("not_found", `no route for ${c.req.method} ${c.req.path}`), log),
  );

  const health = function health(c: Context) {
    const report = options.health();
    return c.json(
      { status: report.ready ? "ok" : "not_ready", checks: report.checks },
      report.ready ? 200 : 503,
    );
  };
  app.get("/health", health);
  app.get("/healthz", health);

  app.use("/api/*", async function authenticate(c, next) {
    await options.verifier.verify(c.req.header("authorization"));
    await next();
  });
  app.use(
    "/api/*",
    bodyLimit({
      maxSize: options.bodyLimitBytes,
      onError: (c) =>
        errorResponse(
          c,
          new KorokdError("body_too_large", `the body exceeds ${options.bodyLimitBytes} bytes`),
          log,
        ),
    }),
  );
  app.post("/api/execute", executeHandler(options));
  app.route("/api/contexts", contextsRoutes(options.contexts));
  return app;
}
