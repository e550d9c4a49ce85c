/**
 * Starts agentcore. Until its own issue lands this serves only `/healthz`, honestly reporting that the
 * component's API is not implemented yet rather than pretending to work.
 */
import { Hono } from "hono";
import type { RunningComponent } from "../component";
import type { AgentcoreSettings } from "../config/modes";
import { serveApp } from "../http/serve-app";

export function startAgentcore(settings: AgentcoreSettings & { "listen-host": string }): RunningComponent {
  const app = new Hono();
  app.get("/healthz", (c) => c.json({ status: "ok", mode: "agentcore" }));
  app.all("*", (c) =>
    c.json(
      { error: { code: "not_implemented", message: "agentcore API is not implemented in this build" } },
      501,
    ),
  );
  return serveApp(app, { hostname: settings["listen-host"], port: settings["listen-port"] });
}
