/**
 * The gateway's client of AgentCore's Connect service (binary Connect protocol over HTTP/2, one shared
 * connection). Every call carries the client principal, a deadline and the caller's AbortSignal; failures
 * come back as GatewayErrors (see `agentcore-errors.ts`).
 */
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { AgentCoreService, type Session, SessionKind } from "../../gen/agentland/agentcore/v1/agentcore_pb";
import { fromAgentcoreError, isNotFoundError } from "./agentcore-errors";

export interface SessionActivityReport {
  readonly id: string;
  readonly namespace: string;
  readonly lastActivityAtMs: number;
  readonly inFlight: number;
}

export interface AgentcoreClient {
  createCodeInterpreter(principal: string, namespace: string, signal: AbortSignal): Promise<Session>;
  createAgentSession(
    principal: string,
    runtime: { readonly name: string; readonly namespace: string },
    signal: AbortSignal,
  ): Promise<Session>;
  /** Undefined when the session does not exist or belongs to someone else. */
  getSession(principal: string, id: string, signal: AbortSignal): Promise<Session | undefined>;
  /** False when there was no such session of this principal. */
  deleteSession(principal: string, id: string, namespace: string, signal: AbortSignal): Promise<boolean>;
  listSessions(principal: string, signal: AbortSignal, kind?: SessionKind): Promise<Session[]>;
  /** Returns the ids AgentCore does not know (any more). */
  recordActivity(
    reporter: string,
    activity: readonly SessionActivityReport[],
    signal: AbortSignal,
  ): Promise<string[]>;
  /** Reachability for `/readyz`: any answer from AgentCore, even NotFound, counts. */
  probe(signal: AbortSignal): Promise<boolean>;
  close(): void;
}

export interface AgentcoreClientOptions {
  readonly baseUrl: string;
  /** Deadline of session creation (AgentCore waits for the sandbox to become Ready). */
  readonly createTimeoutMs: number;
  /** Deadline of every other call. */
  readonly callTimeoutMs: number;
}

/**
 * The gateway's transport to AgentCore: binary Connect over one shared HTTP/2 connection, kept alive with
 * pings. `close` ends the connection. (The agentcore benchmark times creates over this very transport.)
 */
export function agentcoreTransport(baseUrl: string): { readonly transport: Transport; close(): void } {
  const sessionManager = new Http2SessionManager(baseUrl, {
    pingIntervalMs: 10_000,
    idleConnectionTimeoutMs: 60_000,
  });
  const transport = createConnectTransport({
    baseUrl,
    httpVersion: "2",
    useBinaryFormat: true,
    sessionManager,
  });
  return { transport, close: () => sessionManager.abort() };
}

export function createAgentcoreClient(opts: AgentcoreClientOptions): AgentcoreClient {
  const { transport, close } = agentcoreTransport(opts.baseUrl);
  const rpc = createClient(AgentCoreService, transport);
  const short = (signal: AbortSignal) => ({ signal, timeoutMs: opts.callTimeoutMs });
  const long = (signal: AbortSignal) => ({ signal, timeoutMs: opts.createTimeoutMs });
  const required = (session: Session | undefined): Session => {
    if (session === undefined) throw new Error("AgentCore answered without a session");
    return session;
  };

  return {
    async createCodeInterpreter(principal, namespace, signal) {
      try {
        const res = await rpc.createCodeInterpreter({ principal, options: { namespace } }, long(signal));
        return required(res.session);
      } catch (err) {
        throw fromAgentcoreError(err, "create");
      }
    },
    async createAgentSession(principal, runtime, signal) {
      try {
        const res = await rpc.createAgentSession(
          {
            principal,
            runtimeName: runtime.name,
            runtimeNamespace: runtime.namespace,
            options: { namespace: runtime.namespace },
          },
          long(signal),
        );
        return required(res.session);
      } catch (err) {
        throw fromAgentcoreError(err, "create-agent");
      }
    },
    async getSession(principal, id, signal) {
      try {
        return required((await rpc.getSession({ principal, id }, short(signal))).session);
      } catch (err) {
        if (isNotFoundError(err)) return undefined;
        throw fromAgentcoreError(err, "session");
      }
    },
    async deleteSession(principal, id, namespace, signal) {
      try {
        await rpc.deleteSession({ principal, id, namespace }, short(signal));
        return true;
      } catch (err) {
        if (isNotFoundError(err)) return false;
        throw fromAgentcoreError(err, "session");
      }
    },
    async listSessions(principal, signal, kind = SessionKind.UNSPECIFIED) {
      try {
        return (await rpc.listSessions({ principal, kind }, short(signal))).sessions;
      } catch (err) {
        throw fromAgentcoreError(err, "session");
      }
    },
    async recordActivity(reporter, activity, signal) {
      const activities = activity.map((a) => ({
        id: a.id,
        namespace: a.namespace,
        lastActivityAt: timestampFromMs(a.lastActivityAtMs),
        inFlight: a.inFlight,
      }));
      try {
        return (await rpc.recordActivity({ reporter, activities }, short(signal))).unknownIds;
      } catch (err) {
        throw fromAgentcoreError(err, "session");
      }
    },
    async probe(signal) {
      try {
        await rpc.getSession({ principal: "system:gateway-readiness", id: "readiness-probe" }, short(signal));
        return true;
      } catch (err) {
        return fromAgentcoreError(err, "session").code !== "agentcore_unavailable";
      }
    },
    close,
  };
}
