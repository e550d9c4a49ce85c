/**
 * The two kinds of session custom resource, seen through what they share. A session id is the CR's name and
 * its prefix says the kind, so a lookup by id needs no search across kinds.
 */
import type { AgentSession } from "../../api/agent-session";
import type { CodeInterpreter } from "../../api/code-interpreter";
import { AGENT_SESSIONS, CODE_INTERPRETERS } from "../../api/resource-types";
import { SessionKind } from "../../gen/agentland/agentcore/v1/agentcore_pb";
import type { ResourceType } from "../../kube/resource-client";

export type SessionObject = CodeInterpreter | AgentSession;

export interface SessionKindInfo {
  readonly kind: "CodeInterpreter" | "AgentSession";
  readonly proto: SessionKind;
  readonly prefix: string;
  readonly resource: ResourceType<SessionObject>;
}

export const CODE_INTERPRETER_KIND: SessionKindInfo = {
  kind: "CodeInterpreter",
  proto: SessionKind.CODE_INTERPRETER,
  prefix: "ci-",
  resource: CODE_INTERPRETERS as ResourceType<SessionObject>,
};

export const AGENT_SESSION_KIND: SessionKindInfo = {
  kind: "AgentSession",
  proto: SessionKind.AGENT,
  prefix: "as-",
  resource: AGENT_SESSIONS as ResourceType<SessionObject>,
};

export const SESSION_KINDS = [CODE_INTERPRETER_KIND, AGENT_SESSION_KIND] as const;

/** The kind a session id belongs to, or undefined for an id agentland never issues. */
export function kindOfSessionId(id: string): SessionKindInfo | undefined {
  return SESSION_KINDS.find((k) => id.startsWith(k.prefix));
}
