/**
 * Serves a Hono app with `Bun.serve` and gives back a `RunningComponent` whose `stop` drains:
 * no new connections, in-flight requests get until the deadline, then connections are closed.
 */
import type { Hono } from "hono";
import type { RunningComponent } from "../component";

export interface ServeOptions {
  readonly hostname: string;
  readonly port: number;
  /** Largest request body Bun accepts before the app sees it (bytes). */
  readonly maxRequestBodySize?: number;
  /** Seconds a connection may stay idle; 0 disables the timeout (long streams). */
  readonly idleTimeout?: number;
}

// biome-ignore lint/suspicious/noExplicitAny: Hono's env generic is irrelevant to serving.
export function serveApp(app: Hono<any>, options: ServeOptions): RunningComponent {
  const server = Bun.serve({
    hostname: options.hostname,
    port: options.port,
    fetch: app.fetch,
    maxRequestBodySize: options.maxRequestBodySize ?? 16 * 1024 * 1024,
    idleTimeout: options.idleTimeout ?? 30,
  });
  const host = server.hostname?.includes(":") ? `[${server.hostname}]` : server.hostname;
  return {
    url: `http://${host}:${server.port}`,
    async stop(deadlineMs: number) {
      const graceful = server.stop(false);
      const timer = setTimeout(() => void server.stop(true), deadlineMs);
      try {
        await graceful;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
