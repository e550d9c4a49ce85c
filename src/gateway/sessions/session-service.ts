/**
 * Finds or creates the session a request runs in. Reuse goes through the cache and AgentCore; a session
 * that is unknown, expired, of another kind or another principal's is `session_not_found` (never a silent
 * new sandbox), one that is not Ready yet is a 503 with Retry-After. Creation enforces the per-principal
 * limit of concurrent sessions (`session-quota.ts`).
 */
import type { Session, SessionKind } from "../../gen/agentland/agentcore/v1/agentcore_pb";
import type { AgentcoreClient } from "../agentcore/agentcore-client";
import { GatewayError } from "../gateway-error";
import type { GatewayMetrics } from "../metrics/metrics";
import type { SessionCache } from "./session-cache";
import { createSessionQuota } from "./session-quota";

export interface RuntimeRef {
  readonly name: string;
  readonly namespace: string;
}

export interface SessionService {
  /** A Ready session of this principal and kind, or a GatewayError. */
  resolve(principal: string, id: string, kind: SessionKind): Promise<Session>;
  createCodeInterpreter(principal: string, signal: AbortSignal): Promise<Session>;
  createAgentSession(principal: string, runtime: RuntimeRef, signal: AbortSignal): Promise<Session>;
  list(principal: string, signal: AbortSignal): Promise<Session[]>;
  get(principal: string, id: string, signal: AbortSignal): Promise<Session>;
  delete(principal: string, id: string, signal: AbortSignal): Promise<void>;
  /** The sandbox stopped answering: the next request looks the session up again. */
  forget(id: string): void;
}

export interface SessionServiceOptions {
  readonly agentcore: AgentcoreClient;
  readonly cache: SessionCache;
  readonly metrics: GatewayMetrics;
  readonly codeInterpreterNamespace: string;
  readonly maxSessionsPerPrincipal: number;
}

const NOT_FOUND = "no such session (unknown, expired, or not yours)";
/** How long deleting a session created past the quota may take (it runs after the client's answer). */
const DISCARD_TIMEOUT_MS = 10_000;
const NEVER_ABORTED = new AbortController().signal;
/** Session ids are Kubernetes object names; anything else cannot name a session (no lookup needed). */
const SESSION_ID = /^[a-z0-9]([-a-z0-9]{0,251}[a-z0-9])?$/;

export function createSessionService(opts: SessionServiceOptions): SessionService {
  const { agentcore, cache } = opts;
  const lookups = new Map<string, Promise<Session>>();

  const quota = createSessionQuota({
    maxPerPrincipal: opts.maxSessionsPerPrincipal,
    maxPrincipals: 10_000,
    countable: async (principal, signal) =>
      (await agentcore.listSessions(principal, signal)).filter((s) => s.phase !== "Terminating"),
    discard: async (principal, session) => {
      const signal = AbortSignal.timeout(DISCARD_TIMEOUT_MS);
      await agentcore.deleteSession(principal, session.id, session.namespace, signal).catch(() => false);
      cache.bury(session.id);
    },
  });

  async function withQuota(
    principal: string,
    signal: AbortSignal,
    create: () => Promise<Session>,
  ): Promise<Session> {
    const session = await quota.admit(principal, signal, create);
    cache.put(principal, session);
    return ready(session);
  }

  /** The principal's sessions that are not on their way out. */
  async function live(principal: string, signal: AbortSignal): Promise<Session[]> {
    const all = await agentcore.listSessions(principal, signal);
    return all.filter((s) => s.phase !== "Terminating" && !cache.isBuried(s.id));
  }

  async function get(principal: string, id: string, signal: AbortSignal): Promise<Session> {
    if (!SESSION_ID.test(id) || cache.isBuried(id)) throw new GatewayError("session_not_found", NOT_FOUND);
    const session = await agentcore.getSession(principal, id, signal);
    if (session === undefined || session.principal !== principal) {
      cache.forget(id);
      throw new GatewayError("session_not_found", NOT_FOUND);
    }
    return session;
  }

  /**
   * One AgentCore lookup per session at a time, shared by every request that needs it; it runs on its own
   * deadline (AgentCore client), not a client's, since several clients may wait on it.
   */
  function lookup(principal: string, id: string): Promise<Session> {
    const key = `${principal}\u0000${id}`;
    let pending = lookups.get(key);
    if (pending === undefined) {
      pending = get(principal, id, NEVER_ABORTED).then((session) => {
        if (session.phase === "Ready") cache.put(principal, session);
        return session;
      });
      lookups.set(key, pending);
      void pending.finally(() => lookups.delete(key)).catch(() => undefined);
    }
    return pending;
  }

  return {
    async resolve(principal, id, kind) {
      const cached = cache.isBuried(id) ? undefined : cache.get(principal, id);
      // A stale-enough entry is refreshed in the background; this request still uses it.
      if (cached?.refresh) void lookup(principal, id).catch(() => undefined);
      const session = cached?.session ?? (await lookup(principal, id));
      if (session.kind !== kind || session.phase === "Terminating") {
        throw new GatewayError("session_not_found", NOT_FOUND);
      }
      return ready(session);
    },
    createCodeInterpreter(principal, signal) {
      return withQuota(principal, signal, async () => {
        const session = await agentcore.createCodeInterpreter(
          principal,
          opts.codeInterpreterNamespace,
          signal,
        );
        opts.metrics.sessionCreated("code-interpreter", session.warm);
        return session;
      });
    },
    createAgentSession(principal, runtime, signal) {
      return withQuota(principal, signal, async () => {
        const session = await agentcore.createAgentSession(principal, runtime, signal);
        opts.metrics.sessionCreated("agent", session.warm);
        return session;
      });
    },
    list: live,
    get,
    async delete(principal, id, signal) {
      const session = await get(principal, id, signal);
      cache.forget(id);
      if (!(await agentcore.deleteSession(principal, id, session.namespace, signal))) {
        throw new GatewayError("session_not_found", NOT_FOUND);
      }
      cache.bury(id);
      quota.released(principal);
    },
    forget: (id) => cache.forget(id),
  };
}

/** A session the proxy may send to: Ready, with an address. */
function ready(session: Session): Session {
  if (session.phase === "Ready" && session.podIp !== "" && session.port > 0 && session.podIdentity !== "") {
    return session;
  }
  if (session.phase === "Failed") {
    throw new GatewayError(
      "session_not_ready",
      `the session's sandbox failed: ${session.message || "unknown reason"}`,
      {
        sessionId: session.id,
        retryAfterSeconds: 5,
      },
    );
  }
  throw new GatewayError(
    "session_not_ready",
    `the session is not ready yet (${session.phase || "Pending"})`,
    {
      sessionId: session.id,
      retryAfterSeconds: 1,
    },
  );
}
