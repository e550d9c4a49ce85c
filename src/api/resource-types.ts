/**
 * agentland's kinds as `src/kube` resource types, so `client.resource(SANDBOXES)` is typed with the kind's
 * TypeScript type. Names come from each kind's definition, never retyped.
 */
import { resourceType } from "../kube/resource-client";
import { AGENT_RUNTIME, type AgentRuntime } from "./agent-runtime";
import { AGENT_SESSION, type AgentSession } from "./agent-session";
import { CODE_INTERPRETER, type CodeInterpreter } from "./code-interpreter";
import type { KindNames } from "./group";
import { SANDBOX, type Sandbox } from "./sandbox";
import { SANDBOX_CLAIM, type SandboxClaim } from "./sandbox-claim";
import { SANDBOX_POOL, type SandboxPool } from "./sandbox-pool";

function agentlandResource<M extends object>(names: KindNames) {
  const { group, version, plural, kind } = names;
  return resourceType<M>({ group, version, plural, kind, namespaced: true });
}

export const CODE_INTERPRETERS = agentlandResource<CodeInterpreter>(CODE_INTERPRETER);
export const AGENT_RUNTIMES = agentlandResource<AgentRuntime>(AGENT_RUNTIME);
export const AGENT_SESSIONS = agentlandResource<AgentSession>(AGENT_SESSION);
export const SANDBOXES = agentlandResource<Sandbox>(SANDBOX);
export const SANDBOX_POOLS = agentlandResource<SandboxPool>(SANDBOX_POOL);
export const SANDBOX_CLAIMS = agentlandResource<SandboxClaim>(SANDBOX_CLAIM);
