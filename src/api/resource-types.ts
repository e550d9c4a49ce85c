/** The kube client's resource types for agentland's kinds, derived from their names in `src/api`. */
import { resourceType } from "../kube/resource-client";
import { AGENT_RUNTIME, type AgentRuntime } from "./agent-runtime";
import { AGENT_SESSION, type AgentSession } from "./agent-session";
import { CODE_INTERPRETER, type CodeInterpreter } from "./code-interpreter";
import type { KindNames } from "./group";
import { SANDBOX, type Sandbox } from "./sandbox";
import { SANDBOX_CLAIM, type SandboxClaim } from "./sandbox-claim";
import { SANDBOX_POOL, type SandboxPool } from "./sandbox-pool";

const of = <T extends object>(names: KindNames) =>
  resourceType<T>({
    group: names.group,
    version: names.version,
    plural: names.plural,
    kind: names.kind,
    namespaced: true,
  });

export const CODE_INTERPRETERS = of<CodeInterpreter>(CODE_INTERPRETER);
export const AGENT_SESSIONS = of<AgentSession>(AGENT_SESSION);
export const AGENT_RUNTIMES = of<AgentRuntime>(AGENT_RUNTIME);
export const SANDBOXES = of<Sandbox>(SANDBOX);
export const SANDBOX_POOLS = of<SandboxPool>(SANDBOX_POOL);
export const SANDBOX_CLAIMS = of<SandboxClaim>(SANDBOX_CLAIM);
