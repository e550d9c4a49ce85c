/**
 * The AgentCore RPC service. Requests name the client principal (set by the gateway); sessions carry a
 * hash of it, and Get/Delete/List only ever see the caller's own sessions — another principal's session is
 * indistinguishable from one that does not exist. Reads come from the informer cache; writes go to the
 * apiserver.
 */
import type { ServiceImpl } from "@connectrpc/connect";
import type { AgentRuntime } from "../../api/agent-runtime";
import { ANNOTATIONS } from "../../api/reserved-keys";
import { AGENT_RUNTIMES } from "../../api/resource-types";
import { type AgentCoreService, SessionKind } from "../../gen/agentland/agentcore/v1/agentcore_pb";
import type { KubeClient } from "../../kube/kube-client";
import { isNotFound } from "../../kube/kube-error";
import type { Counter } from "../../metrics/metrics-registry";
import { AgentcoreError } from "../agentcore-error";
import type { ActivityRecorder } from "../gc/activity-recorder";
import { principalHash } from "../sessions/principal";
import type { SessionCache } from "../sessions/session-cache";
import { isSessionId } from "../sessions/session-id";
import {
  AGENT_SESSION_KIND,
  CODE_INTERPRETER_KIND,
  kindOfSessionId,
  SESSION_KINDS,
  type SessionKindInfo,
  type SessionObject,
} from "../sessions/session-kinds";
import { createSession, deleteSession, type SessionLifecycleDeps } from "../sessions/session-lifecycle";
import { specOverrides } from "../sessions/session-spec";
import { toProtoSession } from "../sessions/to-proto-session";

export interface AgentcoreServiceDeps extends SessionLifecycleDeps {
  readonly client: KubeClient;
  readonly cache: SessionCache;
  readonly activity: ActivityRecorder;
  readonly defaultNamespace: string;
  readonly allowedNamespaces: readonly string[];
  readonly now: () => number;
  readonly warm?: Counter;
}

type Service = ServiceImpl<typeof AgentCoreService>;

/** How long DeleteSession waits for its own watch to confirm the delete (the tombstone covers it anyway). */
const DELETE_CONFIRM_MS = 2_000;

export function createAgentcoreService(deps: AgentcoreServiceDeps): Service {
  const allowed = new Set(deps.allowedNamespaces);
  const namespaceFor = (requested: string) => {
    const ns = requested || deps.defaultNamespace;
    if (!allowed.has(ns)) throw new AgentcoreError("permission_denied", `namespace "${ns}" is not allowed`);
    return ns;
  };
  const requirePrincipal = (principal: string) => {
    if (!principal) throw new AgentcoreError("invalid_argument", "principal: required");
    return principal;
  };
  const finishCreate = (kind: SessionKindInfo, obj: SessionObject, principal: string) => {
    const session = toProtoSession(kind, obj, principal);
    deps.warm?.inc({ kind: kind.kind, result: session.warm ? "hit" : "miss" });
    return { session };
  };

  return {
    async createCodeInterpreter(req, ctx) {
      const principal = requirePrincipal(req.principal);
      const namespace = namespaceFor(req.options?.namespace ?? "");
      const spec = specOverrides(req.options);
      const kind = CODE_INTERPRETER_KIND;
      const obj = await createSession(deps, { kind, principal, namespace, spec, signal: ctx.signal });
      return finishCreate(kind, obj, principal);
    },

    async createAgentSession(req, ctx) {
      const principal = requirePrincipal(req.principal);
      if (!req.runtimeName) throw new AgentcoreError("invalid_argument", "runtime_name: required");
      const namespace = namespaceFor(req.runtimeNamespace || req.options?.namespace || "");
      const runtime = await getRuntime(deps.client, namespace, req.runtimeName, ctx.signal);
      const spec = {
        runtimeRef: { name: req.runtimeName, namespace },
        // Timeouts are copied from the runtime so the session's own fields drive GC, as designed.
        sessionTimeout: runtime.spec.sessionTimeout,
        maxSessionDuration: runtime.spec.maxSessionDuration,
        ...specOverrides(req.options),
      };
      const kind = AGENT_SESSION_KIND;
      const obj = await createSession(deps, { kind, principal, namespace, spec, signal: ctx.signal });
      return finishCreate(kind, obj, principal);
    },

    async getSession(req) {
      const principal = requirePrincipal(req.principal);
      const { kind, obj } = findOwn(deps, allowed, principal, req.id, req.namespace);
      return { session: toProtoSession(kind, obj, principal) };
    },

    async deleteSession(req, ctx) {
      const principal = requirePrincipal(req.principal);
      const { kind, obj } = findOwn(deps, allowed, principal, req.id, req.namespace);
      await deleteSession(deps, kind, obj, ctx.signal);
      // Read-your-deletes on this replica at once; the answer waits (briefly) for this replica's watch to
      // see the delete, by which time the apiserver has sent it to every other replica's watch as well.
      deps.cache.bury(kind, obj);
      const confirm = AbortSignal.any([ctx.signal, AbortSignal.timeout(DELETE_CONFIRM_MS)]);
      await deps.cache.untilGone(kind, obj, confirm);
      return {};
    },

    async listSessions(req) {
      const principal = requirePrincipal(req.principal);
      const only = SESSION_KINDS.find((k) => k.proto === req.kind && req.kind !== SessionKind.UNSPECIFIED);
      const sessions = deps.cache
        .listByPrincipal(principalHash(principal), only)
        .filter(({ obj }) => !obj.metadata.deletionTimestamp)
        .map(({ kind, obj }) => toProtoSession(kind, obj, principal))
        .sort((a, b) => Number((a.createdAt?.seconds ?? 0n) - (b.createdAt?.seconds ?? 0n)));
      return { sessions };
    },

    async recordActivity(req, ctx) {
      const unknownIds: string[] = [];
      for (const a of req.activities) {
        const kind = kindOfSessionId(a.id);
        const obj = kind && allowed.has(a.namespace) ? deps.cache.get(kind, a.namespace, a.id) : undefined;
        if (!kind || !obj || obj.metadata.deletionTimestamp) {
          unknownIds.push(a.id);
          continue;
        }
        const lastActivityMs = a.lastActivityAt ? Number(a.lastActivityAt.seconds) * 1000 : deps.now();
        await deps.activity.record(kind, obj, { lastActivityMs, inFlight: a.inFlight }, ctx.signal);
      }
      return { unknownIds };
    },
  };
}

function findOwn(
  deps: AgentcoreServiceDeps,
  allowed: ReadonlySet<string>,
  principal: string,
  id: string,
  namespace: string,
): { kind: SessionKindInfo; obj: SessionObject } {
  const notFound = () => new AgentcoreError("not_found", `session "${id}" not found`);
  const kind = kindOfSessionId(id);
  if (!kind || !isSessionId(id)) throw notFound();
  const namespaces = namespace ? [namespace] : [...allowed];
  const hash = principalHash(principal);
  for (const ns of namespaces) {
    if (!allowed.has(ns)) continue;
    const obj = deps.cache.get(kind, ns, id);
    if (
      obj &&
      !obj.metadata.deletionTimestamp &&
      obj.metadata.annotations?.[ANNOTATIONS.principal] === hash
    ) {
      return { kind, obj };
    }
  }
  throw notFound();
}

async function getRuntime(client: KubeClient, namespace: string, name: string, signal: AbortSignal) {
  try {
    return (await client.resource(AGENT_RUNTIMES).get(name, { namespace, signal })) as AgentRuntime;
  } catch (err) {
    if (isNotFound(err))
      throw new AgentcoreError("not_found", `agent runtime "${namespace}/${name}" not found`);
    throw new AgentcoreError("unavailable", "could not read the agent runtime", { cause: err });
  }
}
