/** What the route handlers need; assembled once in `create-app.ts`. */
import type { ProxyDeps } from "../proxy/proxy-to-session";
import type { RuntimeRef, SessionService } from "../sessions/session-service";

export interface RouteDeps extends ProxyDeps {
  readonly sessions: SessionService;
  readonly runBodyLimitBytes: number;
  /** Deadline for a sandbox's response headers. */
  readonly upstreamTimeoutMs: number;
  readonly allowedNamespaces: ReadonlySet<string>;
  readonly defaultNamespace: string;
  readonly defaultRuntime: RuntimeRef | undefined;
}

export const SESSION_HEADER = "x-agentland-session";
