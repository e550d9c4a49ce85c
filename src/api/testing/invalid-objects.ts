/**
 * Objects the apiserver (through the CRDs) and `src/api` validation must both reject; `field` is the field both
 * must blame. `validate.test.ts` runs them through `src/api`, `crd-validation.test.ts` through the apiserver.
 */
import { agentRuntimeKind } from "../agent-runtime";
import { agentSessionKind } from "../agent-session";
import { codeInterpreterKind } from "../code-interpreter";
import { sandboxKind } from "../sandbox";
import { sandboxClaimKind } from "../sandbox-claim";
import { sandboxPoolKind } from "../sandbox-pool";
import { type CreateCase, claim, codei, object, pool, sandbox, session, template } from "./case-objects";
import { INVALID_TEMPLATES } from "./invalid-templates";
export const INVALID_OBJECTS: readonly (CreateCase & { field: string })[] = [
  {
    name: "bad duration",
    kind: codeInterpreterKind,
    object: codei({ sessionTimeout: "15 minutes" }),
    field: "spec.sessionTimeout",
  },
  {
    name: "duration with unit days",
    kind: codeInterpreterKind,
    object: codei({ maxSessionDuration: "1d" }),
    field: "spec.maxSessionDuration",
  },
  {
    name: "idle timeout below 30s",
    kind: codeInterpreterKind,
    object: codei({ sessionTimeout: "10s" }),
    field: "spec.sessionTimeout",
  },
  {
    name: "lifetime above 168h",
    kind: codeInterpreterKind,
    object: codei({ maxSessionDuration: "169h" }),
    field: "spec.maxSessionDuration",
  },
  {
    name: "idle timeout longer than lifetime",
    kind: codeInterpreterKind,
    object: codei({ sessionTimeout: "3h", maxSessionDuration: "2h" }),
    field: "spec.sessionTimeout",
  },
  {
    name: "unknown mode",
    kind: codeInterpreterKind,
    object: codei({ provisioning: { mode: "Fastest" } }),
    field: "spec.provisioning.mode",
  },
  {
    name: "poolRef with mode Direct",
    kind: codeInterpreterKind,
    object: codei({ provisioning: { mode: "Direct", poolRef: { name: "pool" } } }),
    field: "spec.provisioning.poolRef",
  },
  {
    name: "poolRef name not a DNS name",
    kind: codeInterpreterKind,
    object: codei({ provisioning: { poolRef: { name: "Bad_Pool" } } }),
    field: "spec.provisioning.poolRef.name",
  },
  {
    name: "negative replicas",
    kind: sandboxPoolKind,
    object: pool({ replicas: -1, sandboxTemplate: template() }),
    field: "spec.replicas",
  },
  {
    name: "replicas above 1000",
    kind: sandboxPoolKind,
    object: pool({ replicas: 1001, sandboxTemplate: template() }),
    field: "spec.replicas",
  },
  {
    name: "fractional replicas",
    kind: sandboxPoolKind,
    object: pool({ replicas: 1.5, sandboxTemplate: template() }),
    field: "spec.replicas",
  },
  {
    name: "pool with template and runtimeRef",
    kind: sandboxPoolKind,
    object: pool({ sandboxTemplate: template(), runtimeRef: { name: "agent" } }),
    field: "spec",
  },
  {
    name: "pool with neither template nor runtimeRef",
    kind: sandboxPoolKind,
    object: pool({ replicas: 2 }),
    field: "spec",
  },
  {
    name: "session without runtimeRef",
    kind: agentSessionKind,
    object: object(agentSessionKind, {}),
    field: "spec.runtimeRef",
  },
  {
    name: "runtimeRef namespace not a DNS label",
    kind: agentSessionKind,
    object: session({ runtimeRef: { name: "agent", namespace: "Team.A" } }),
    field: "spec.runtimeRef.namespace",
  },
  {
    name: "runtime without template",
    kind: agentRuntimeKind,
    object: object(agentRuntimeKind, {}),
    field: "spec.sandboxTemplate",
  },
  {
    name: "negative warm pool",
    kind: agentRuntimeKind,
    object: object(agentRuntimeKind, { sandboxTemplate: template(), warmPool: { replicas: -2 } }),
    field: "spec.warmPool.replicas",
  },
  {
    name: "claim with poolRef and template",
    kind: sandboxClaimKind,
    object: claim({ poolRef: { name: "p" }, sandboxTemplate: template() }),
    field: "spec",
  },
  {
    name: "claim mode Direct",
    kind: sandboxClaimKind,
    object: claim({ poolRef: { name: "p" }, mode: "Direct" }),
    field: "spec.mode",
  },
  {
    name: "sandbox without template",
    kind: sandboxKind,
    object: object(sandboxKind, {}),
    field: "spec.sandboxTemplate",
  },
  {
    name: "template hash with capitals",
    kind: sandboxKind,
    object: sandbox({ templateHash: "ABC" }),
    field: "spec.templateHash",
  },
  {
    name: "missing spec",
    kind: codeInterpreterKind,
    object: { ...codei({}), spec: undefined },
    field: "spec",
  },
  {
    name: "name longer than a label value",
    kind: sandboxKind,
    object: object(sandboxKind, { sandboxTemplate: template() }, "s".repeat(64)),
    field: "metadata.name",
  },
  ...INVALID_TEMPLATES,
];
