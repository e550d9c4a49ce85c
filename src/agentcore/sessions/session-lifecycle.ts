/**
 * Creating and deleting session CRs on behalf of a principal. Create validates with the same schema as
 * the CRD, writes the CR, waits (through the informer) until it is Ready, and on failure, timeout or
 * cancellation deletes what it created: a failed create never leaves a session behind.
 */
import { parseAgentSession } from "../../api/agent-session";
import { parseCodeInterpreter } from "../../api/code-interpreter";
import { API_VERSION } from "../../api/group";
import { ANNOTATIONS, LABELS, MANAGED_BY } from "../../api/reserved-keys";
import { ApiValidationError } from "../../api/validate";
import type { KubeClient } from "../../kube/kube-client";
import { isInvalid, isNotFound, KubeError } from "../../kube/kube-error";
import { AgentcoreError } from "../agentcore-error";
import { principalHash } from "./principal";
import { readyWith } from "./session-as-ready";
import type { SessionCache } from "./session-cache";
import { newSessionId } from "./session-id";
import { CODE_INTERPRETER_KIND, type SessionKindInfo, type SessionObject } from "./session-kinds";
import { type Readiness, readiness } from "./session-readiness";
import type { WarmReserver } from "./warm-reservation";

export interface SessionLifecycleDeps {
  readonly client: KubeClient;
  readonly cache: SessionCache;
  readonly createTimeoutMs: number;
  readonly log: (msg: string, fields?: Record<string, unknown>) => void;
  /**
   * Called with each session CR as the apiserver accepted it, before waiting for it to become Ready. The
   * replica leading hands it to its own session controller, which then starts on it at once instead of
   * one watch delivery later; the watch brings the same object to the leader either way.
   */
  readonly onCreated?: (kind: SessionKindInfo, obj: SessionObject) => void;
  /** Called after this replica deleted a session, so a leader that was handed it forgets it as well. */
  readonly onDeleted?: (kind: SessionKindInfo, obj: SessionObject) => void;
  /** Reserves a warm sandbox alongside the session's POST (warm-reservation.ts); none: the create waits. */
  readonly reserver?: WarmReserver;
}

export interface CreateRequest {
  readonly kind: SessionKindInfo;
  readonly principal: string;
  readonly namespace: string;
  readonly spec: object;
  readonly signal: AbortSignal;
}

export async function createSession(deps: SessionLifecycleDeps, req: CreateRequest): Promise<SessionObject> {
  const name = newSessionId(req.kind.prefix);
  const plain = validated(req.kind, {
    apiVersion: API_VERSION,
    kind: req.kind.kind,
    metadata: {
      name,
      namespace: req.namespace,
      labels: { [LABELS.managedBy]: MANAGED_BY },
      annotations: { [ANNOTATIONS.principal]: principalHash(req.principal) },
    },
    spec: req.spec,
  });
  const reservation = deps.reserver?.pick(plain);
  const object = reservation
    ? ({
        ...plain,
        metadata: {
          ...plain.metadata,
          annotations: { ...plain.metadata.annotations, ...reservation.annotations },
        },
      } as SessionObject)
    : plain;
  const resource = deps.client.resource(req.kind.resource);
  // The reservation in parallel with the POST: a warm create is then one round of writes, not two. Both
  // are `interactive`: in a burst, the controllers' follow-up writes wait behind the creates' answers.
  const reserving = reservation && deps.reserver?.reserve(reservation, object, req.signal);
  let created: SessionObject;
  try {
    created = await resource.create(object, {
      namespace: req.namespace,
      signal: req.signal,
      priority: "interactive",
    });
  } catch (err) {
    await deps.reserver?.release(await reserving);
    if (isInvalid(err))
      throw new AgentcoreError("invalid_argument", (err as KubeError).message, { cause: err });
    throw new AgentcoreError("unavailable", "could not create the session", { cause: err });
  }
  deps.onCreated?.(req.kind, created);
  const reserved = deps.reserver?.answerable(await reserving);
  if (reserved && deps.reserver) {
    const answer = readyWith(created, reserved, deps.reserver.clock.now());
    deps.cache.noteCreated(req.kind, answer);
    return answer;
  }
  const timeout = AbortSignal.timeout(deps.createTimeoutMs);
  let last: Readiness | undefined;
  try {
    const settled = await deps.cache.waitFor(
      req.kind,
      req.namespace,
      name,
      (obj) => {
        if (obj === undefined) return { gone: true as const };
        last = readiness(obj);
        return last.state === "pending" ? undefined : { obj, state: last };
      },
      AbortSignal.any([req.signal, timeout]),
    );
    if ("gone" in settled)
      throw new AgentcoreError("unavailable", "the session was deleted while it started");
    if (settled.state.state === "failed") {
      const { reason, message } = settled.state;
      throw new AgentcoreError("failed_precondition", `the sandbox failed to start (${reason}): ${message}`);
    }
    return settled.obj;
  } catch (err) {
    await deleteQuietly(deps, req.kind, created);
    throw explainCreateFailure(err, req.signal, last);
  }
}

function validated(kind: SessionKindInfo, obj: unknown): SessionObject {
  try {
    return kind === CODE_INTERPRETER_KIND ? parseCodeInterpreter(obj) : parseAgentSession(obj);
  } catch (err) {
    if (err instanceof ApiValidationError)
      throw new AgentcoreError("invalid_argument", err.message, { cause: err });
    throw err;
  }
}

function explainCreateFailure(err: unknown, caller: AbortSignal, last: Readiness | undefined): unknown {
  if (err instanceof AgentcoreError) return err;
  if (caller.aborted)
    return new AgentcoreError("canceled", "the caller canceled the request", { cause: err });
  const why = last && last.state !== "ready" ? ` (${last.reason}: ${last.message})` : "";
  if (last?.state === "pending" && last.reason === "PoolExhausted") {
    return new AgentcoreError("resource_exhausted", `no warm sandbox became free in time${why}`, {
      cause: err,
    });
  }
  return new AgentcoreError("deadline_exceeded", `the session did not become Ready in time${why}`, {
    cause: err,
  });
}

async function deleteQuietly(deps: SessionLifecycleDeps, kind: SessionKindInfo, obj: SessionObject) {
  const { name = "", namespace } = obj.metadata;
  try {
    await deps.client.resource(kind.resource).delete(name, { namespace, propagationPolicy: "Background" });
    deps.onDeleted?.(kind, obj);
  } catch (err) {
    if (isNotFound(err)) deps.onDeleted?.(kind, obj);
    else deps.log("cleanup of a failed session failed; GC will retry", { name, namespace, err: String(err) });
  }
}

/** Deletes a session; its claim, sandbox and pod follow through owner references. */
export async function deleteSession(
  deps: SessionLifecycleDeps,
  kind: SessionKindInfo,
  obj: SessionObject,
  signal: AbortSignal,
): Promise<void> {
  const { name, namespace, uid } = obj.metadata;
  try {
    await deps.client.resource(kind.resource).delete(name ?? "", {
      namespace,
      propagationPolicy: "Background",
      ...(uid ? { preconditions: { uid } } : {}),
      signal,
    });
    deps.onDeleted?.(kind, obj);
  } catch (err) {
    if (isNotFound(err)) return;
    if (err instanceof KubeError && err.code === 409) return; // replaced by a newer object of that name: not ours
    throw new AgentcoreError("unavailable", "could not delete the session", { cause: err });
  }
}
