/** Every agentland kind, in the order the CRD files are written and documented. */
import { agentRuntimeKind } from "./agent-runtime";
import { agentSessionKind } from "./agent-session";
import { codeInterpreterKind } from "./code-interpreter";
import type { KindDefinition } from "./kind";
import { sandboxKind } from "./sandbox";
import { sandboxClaimKind } from "./sandbox-claim";
import { sandboxPoolKind } from "./sandbox-pool";

export const ALL_KINDS: readonly KindDefinition[] = [
  agentRuntimeKind,
  agentSessionKind,
  codeInterpreterKind,
  sandboxKind,
  sandboxClaimKind,
  sandboxPoolKind,
];
