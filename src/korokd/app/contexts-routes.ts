/** The context API: create, list, interrupt, restart, delete. Executing goes through `/api/execute`. */
import { Hono } from "hono";
import type { CodeContext } from "../contexts/code-context";
import type { ContextRegistry } from "../contexts/context-registry";
import { CreateContextBody, parseBody } from "./request-schemas";

export function contextsRoutes(contexts: ContextRegistry): Hono {
  const app = new Hono();
  app.post("/", async function createContext(c) {
    const body = await parseBody(c.req.raw, CreateContextBody);
    const context = contexts.create(body.language, body.env);
    return c.json(describe(context), 201);
  });
  app.get("/", function listContexts(c) {
    return c.json({ contexts: contexts.list().map(describe) });
  });
  app.post("/:id/interrupt", async function interruptContext(c) {
    const context = contexts.get(c.req.param("id"));
    return c.json({ id: context.id, ...(await context.interrupt()) });
  });
  app.post("/:id/restart", async function restartContext(c) {
    const context = contexts.get(c.req.param("id"));
    await context.restart();
    return c.json({ id: context.id, restarted: true });
  });
  app.delete("/:id", async function deleteContext(c) {
    await contexts.delete(c.req.param("id"));
    return c.body(null, 204);
  });
  return app;
}

function describe(context: CodeContext) {
  return { id: context.id, language: context.language, created_at: context.createdAt, busy: context.busy };
}
