/**
 * A session as it reads once it holds a Ready sandbox: the same fields the leader's status write gives it
 * (phase, Ready condition, claim, sandbox, pod name, IP and port, start and expiry). Replicas show this
 * before the leader has written it (session-sandboxes.ts), and a create answers with it from its
 * reservation.
 */

import type { Sandbox } from "../../api/sandbox";
import type { SandboxClaim } from "../../api/sandbox-claim";
import { durationToMs } from "../../api/schema/duration";
import { DEFAULT_MAX_SESSION_DURATION } from "../../api/session";
import { rfc3339 } from "../render/conditions";
import type { SessionObject } from "./session-kinds";

/** The port korokd and agents listen on when the sandbox's status names none. */
const DEFAULT_PORT = 1883;

/** The sandbox a session holds, and how: through its claim, or taken for the claim before it exists. */
export interface Held {
  readonly sandbox: Sandbox;
  readonly claim?: SandboxClaim;
  /** Pre-adopted for the session's claim, which is named like the session (and may not exist yet). */
  readonly preAdopted?: true;
}

/** `session` as it reads once it holds `sandbox` (Ready): what a create answers from its reservation. */
export function readyWith(session: SessionObject, sandbox: Sandbox, nowMs: number): SessionObject {
  return asReady(session, { sandbox, preAdopted: true }, nowMs);
}

export function asReady(session: SessionObject, held: Held, nowMs: number): SessionObject {
  const s = held.sandbox.status ?? {};
  const sandboxName = held.sandbox.metadata.name ?? "";
  const now = rfc3339(nowMs);
  const created = Date.parse(session.metadata.creationTimestamp ?? "");
  const lifetime = durationToMs(session.spec.maxSessionDuration ?? DEFAULT_MAX_SESSION_DURATION);
  const others = (session.status?.conditions ?? []).filter((c) => c.type !== "Ready");
  return {
    ...session,
    status: {
      ...session.status,
      phase: "Ready",
      conditions: [
        ...others,
        {
          type: "Ready",
          status: "True",
          reason: "SandboxReady",
          message: `sandbox ${sandboxName} is ready`,
          lastTransitionTime: now,
        },
      ],
      sandboxName,
      ...(held.claim || held.preAdopted
        ? { claimName: held.claim?.metadata.name ?? session.metadata.name ?? "" }
        : {}),
      podName: s.podName ?? "",
      podIP: s.podIP ?? "",
      port: s.port ?? DEFAULT_PORT,
      startTime: session.status?.startTime ?? now,
      ...(Number.isNaN(created) ? {} : { expiresAt: rfc3339(created + lifetime) }),
    },
  } as SessionObject;
}
