/**
 * The kube client's resource types of agentland's kinds, derived from the kind names so URLs, RBAC and CRDs
 * agree. `T` is the validated, defaulted form, which is what we write; objects read back from the apiserver
 * are raw JSON typed as `T` for convenience and must be parsed (`parseX`) before their fields are trusted.
 */
import { AGENT_RUNTIME, type AgentRuntime } from "./agent-runtime";
import { AGENT_SESSION, type AgentSession } from "./agent-session";
import { CODE_INTERPRETER, type CodeInterpreter } from "./code-interpreter";
import type { KindNames } from "./group";
import { SANDBOX, type Sandbox } from "./sandbox";
import { SANDBOX_CLAIM, type SandboxClaim } from "./sandbox-claim";
import { SANDBOX_POOL, type SandboxPool } from "./sandbox-pool";

/** Structurally the kube client's `ResourceType`; declared here so `src/api` does not depend on `src/kube`. */
export interface AgentlandResourceType<T extends object> {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly namespaced: true;
  readonly kind: string;
  readonly __type?: T;
}

const resource = <T extends object>(names: KindNames): AgentlandResourceType<T> => ({
  group: names.group,
  version: names.version,
  plural: names.plural,
  namespaced: true,
  kind: names.kind,
});

export const SANDBOXES = resource<Sandbox>(SANDBOX);
export const SANDBOX_POOLS = resource<SandboxPool>(SANDBOX_POOL);
export const SANDBOX_CLAIMS = resource<SandboxClaim>(SANDBOX_CLAIM);
export const CODE_INTERPRETERS = resource<CodeInterpreter>(CODE_INTERPRETER);
export const AGENT_SESSIONS = resource<AgentSession>(AGENT_SESSION);
export const AGENT_RUNTIMES = resource<AgentRuntime>(AGENT_RUNTIME);
