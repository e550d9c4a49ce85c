/**
 * The gateway's HTTP app: request id → metrics → (probes, open) → client authentication → API routes,
 * with one error handler for everything.
 */
import { Hono } from "hono";
import type { Logger } from "../log/logger";
import type { GatewayEnv } from "./gateway-env";
import { type AuthMode, authenticate } from "./middleware/authenticate";
import { observe } from "./middleware/observe";
import { requestId } from "./middleware/request-id";
import { onError, onNotFound } from "./on-error";
import { codeRunnerRoutes } from "./routes/code-runner";
import { healthRoutes, type Readiness } from "./routes/health";
import { invocationRoutes } from "./routes/invocations";
import type { RouteDeps } from "./routes/route-deps";
import { sessionRoutes } from "./routes/sessions";

export interface AppDeps extends RouteDeps {
  readonly auth: AuthMode;
  readonly readiness: Readiness;
  readonly log: Logger;
}

export function createApp(deps: AppDeps): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  app.onError(onError(deps.log));
  app.notFound(onNotFound());
  app.use("*", requestId());
  app.use("*", observe(deps.metrics));
  app.route("/", healthRoutes(deps.readiness, deps.metrics));
  app.use("/api/*", authenticate(deps.auth));
  app.route("/api/code-runner", codeRunnerRoutes(deps));
  app.route("/api/sessions", sessionRoutes(deps.sessions));
  app.route("/", invocationRoutes(deps));
  return app;
}
