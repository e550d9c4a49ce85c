/**
 * AgentSession: a session on a sandbox built from an AgentRuntime. Anything the session sets overrides the
 * runtime for this session only (a sandboxTemplate replaces the runtime's, it does not merge).
 *
 * A missing or not-Accepted runtime leaves the session Pending with `Ready=False` (RuntimeNotFound /
 * RuntimeNotAccepted); the runtime controller's events and the runtime index bring the session back as soon
 * as the runtime appears or is fixed. Once its claim or sandbox exists, the session no longer depends on the
 * runtime: changing or deleting the runtime never disturbs a running session.
 */
import { type AgentRuntime, agentRuntimeKind } from "../../api/agent-runtime";
import { AGENT_SESSION, type AgentSession, agentSessionKind } from "../../api/agent-session";
import { DEFAULT_PROVISIONING_MODE } from "../../api/provisioning";
import { durationToMs } from "../../api/schema/duration";
import { DEFAULT_MAX_SESSION_DURATION } from "../../api/session";
import { isConditionTrue } from "../render/conditions";
import {
  type ControllerContext,
  memoKey,
  type ReconcileResult,
  type Reconciler,
  splitNamespaced,
} from "./controller-context";
import { parseCached } from "./parse-cached";
import { createSessionProvisioner, type SessionResolution } from "./session-provisioner";

export function createAgentSessionReconciler(ctx: ControllerContext): Reconciler {
  const provisioner = createSessionProvisioner<AgentSession>(ctx, {
    names: AGENT_SESSION,
    api: ctx.api.agentSessions,
    cache: ctx.caches.agentSessions,
  });

  function resolve(session: AgentSession): SessionResolution {
    const ref = session.spec.runtimeRef;
    const ns = ref.namespace ?? session.metadata.namespace ?? "";
    const own = session.spec.maxSessionDuration;
    const raw = ctx.caches.runtimes.get(ns, ref.name);
    const fallback = durationToMs(own ?? DEFAULT_MAX_SESSION_DURATION);
    if (!raw)
      return {
        maxSessionDurationMs: fallback,
        blocked: { reason: "RuntimeNotFound", message: `AgentRuntime ${ns}/${ref.name} does not exist` },
      };
    const parsed = parseCached(agentRuntimeKind, raw);
    if (!parsed.success || !accepted(parsed.value))
      return {
        maxSessionDurationMs: fallback,
        blocked: { reason: "RuntimeNotAccepted", message: `AgentRuntime ${ns}/${ref.name} is not accepted` },
      };
    const runtime = parsed.value;
    const provisioning = session.spec.provisioning ?? runtime.spec.provisioning;
    const poolName = provisioning.poolRef?.name;
    return {
      maxSessionDurationMs: durationToMs(own ?? runtime.spec.maxSessionDuration),
      plan: {
        template: session.spec.sandboxTemplate ?? runtime.spec.sandboxTemplate,
        mode: provisioning.mode ?? DEFAULT_PROVISIONING_MODE,
        ...(poolName ? { poolName } : {}),
        runtime: ref.name,
      },
    };
  }

  return {
    async reconcile(key: string, signal: AbortSignal): Promise<ReconcileResult> {
      const { namespace, name } = splitNamespaced(key);
      const raw = ctx.memo.latest(
        memoKey(AGENT_SESSION.kind, namespace, name),
        ctx.caches.agentSessions.get(namespace, name),
      );
      if (!raw) return undefined;
      const parsed = parseCached(agentSessionKind, raw);
      if (!parsed.success) return undefined; // the CRD validates sessions
      return provisioner.reconcile(raw, parsed.value, resolve(parsed.value), signal);
    },
  };
}

/** A runtime is usable once its controller accepted the current generation. */
function accepted(runtime: AgentRuntime): boolean {
  const generation = runtime.metadata.generation;
  const observed = runtime.status?.observedGeneration;
  return (
    isConditionTrue(runtime.status?.conditions, "Accepted") &&
    (generation === undefined || observed === generation)
  );
}
