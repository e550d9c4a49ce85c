/** Updates both must judge alike; `field` set means both reject the update there (test data). */
import { agentSessionKind } from "../agent-session";
import { codeInterpreterKind } from "../code-interpreter";
import { sandboxKind } from "../sandbox";
import { sandboxClaimKind } from "../sandbox-claim";
import { sandboxPoolKind } from "../sandbox-pool";
import { claim, codei, pool, sandbox, session, template, type UpdateCase, withSpec } from "./case-objects";

const sessionBase = session({ sessionTimeout: "10m" });
const codeiBase = codei({ provisioning: { mode: "PoolPreferred" } });
const sandboxBase = sandbox({ templateHash: "abc" });
const claimedSandbox = withSpec(sandboxBase, { claimRef: { name: "claim-a" } });
const claimBase = claim({ poolRef: { name: "p" } });
const poolBase = pool({ sandboxTemplate: template() });

export const UPDATES: readonly UpdateCase[] = [
  {
    name: "runtimeRef change",
    kind: agentSessionKind,
    old: sessionBase,
    updated: withSpec(sessionBase, { runtimeRef: { name: "other" } }),
    field: "spec.runtimeRef",
  },
  {
    name: "template added to a running session",
    kind: agentSessionKind,
    old: sessionBase,
    updated: withSpec(sessionBase, { sandboxTemplate: template() }),
    field: "spec.sandboxTemplate",
  },
  {
    name: "session timeout extended",
    kind: agentSessionKind,
    old: sessionBase,
    updated: withSpec(sessionBase, { sessionTimeout: "20m" }),
  },
  {
    name: "provisioning change",
    kind: codeInterpreterKind,
    old: codeiBase,
    updated: withSpec(codeiBase, { provisioning: { mode: "Direct" } }),
    field: "spec.provisioning",
  },
  {
    name: "code interpreter lifetime changed",
    kind: codeInterpreterKind,
    old: codeiBase,
    updated: withSpec(codeiBase, { maxSessionDuration: "3h" }),
  },
  {
    name: "sandbox template change",
    kind: sandboxKind,
    old: sandboxBase,
    updated: withSpec(sandboxBase, { sandboxTemplate: template({ port: 9000 }) }),
    field: "spec.sandboxTemplate",
  },
  {
    name: "template hash change",
    kind: sandboxKind,
    old: sandboxBase,
    updated: withSpec(sandboxBase, { templateHash: "def" }),
    field: "spec.templateHash",
  },
  { name: "sandbox claimed", kind: sandboxKind, old: sandboxBase, updated: claimedSandbox },
  {
    name: "claimed sandbox moved to another claim",
    kind: sandboxKind,
    old: claimedSandbox,
    updated: withSpec(sandboxBase, { claimRef: { name: "claim-b" } }),
    field: "spec.claimRef",
  },
  {
    name: "claimed sandbox released",
    kind: sandboxKind,
    old: claimedSandbox,
    updated: sandboxBase,
    field: "spec.claimRef",
  },
  {
    name: "claim spec change",
    kind: sandboxClaimKind,
    old: claimBase,
    updated: withSpec(claimBase, { mode: "PoolRequired" }),
    field: "spec",
  },
  { name: "pool scaled", kind: sandboxPoolKind, old: poolBase, updated: withSpec(poolBase, { replicas: 5 }) },
  {
    name: "pool template changed",
    kind: sandboxPoolKind,
    old: poolBase,
    updated: withSpec(poolBase, { sandboxTemplate: template({ port: 2000 }) }),
  },
];
