/** `/api/sessions`: the caller's own sessions — list, inspect, delete. Pod addresses stay internal. */
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Hono } from "hono";
import { type Session, SessionKind } from "../../gen/agentland/agentcore/v1/agentcore_pb";
import type { GatewayEnv } from "../gateway-env";
import type { SessionService } from "../sessions/session-service";

export function sessionRoutes(sessions: SessionService): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  app.get("/", async function listSessions(c) {
    const list = await sessions.list(c.get("principal"), c.req.raw.signal);
    return c.json({ sessions: list.map(sessionView) });
  });
  app.get("/:id", async function getSession(c) {
    const session = await sessions.get(c.get("principal"), c.req.param("id"), c.req.raw.signal);
    c.set("sessionId", session.id);
    return c.json(sessionView(session));
  });
  app.delete("/:id", async function deleteSession(c) {
    await sessions.delete(c.get("principal"), c.req.param("id"), c.req.raw.signal);
    return c.body(null, 204);
  });
  return app;
}

export function sessionView(s: Session) {
  const time = (t: Session["createdAt"]) => (t === undefined ? null : new Date(timestampMs(t)).toISOString());
  return {
    id: s.id,
    namespace: s.namespace,
    kind:
      s.kind === SessionKind.AGENT
        ? "agent"
        : s.kind === SessionKind.CODE_INTERPRETER
          ? "code-interpreter"
          : "unknown",
    phase: s.phase,
    ...(s.runtimeName ? { runtime: { name: s.runtimeName, namespace: s.runtimeNamespace } } : {}),
    warm: s.warm,
    created_at: time(s.createdAt),
    last_activity_at: time(s.lastActivityAt),
    expires_at: time(s.expiresAt),
    ...(s.message ? { message: s.message } : {}),
  };
}
