/** Objects both must accept, many on a boundary next to an invalid case (test data). */
import { agentRuntimeKind } from "../agent-runtime";
import { agentSessionKind } from "../agent-session";
import { codeInterpreterKind } from "../code-interpreter";
import { sandboxKind } from "../sandbox";
import { sandboxClaimKind } from "../sandbox-claim";
import { sandboxPoolKind } from "../sandbox-pool";
import {
  type CreateCase,
  claim,
  codei,
  codeiTemplate,
  object,
  pool,
  sandbox,
  session,
  template,
} from "./case-objects";

export const VALID_OBJECTS: readonly CreateCase[] = [
  { name: "empty code interpreter spec", kind: codeInterpreterKind, object: codei({}) },
  {
    name: "boundary durations and compound durations",
    kind: codeInterpreterKind,
    object: codei({ sessionTimeout: "1h30m", maxSessionDuration: "168h" }),
  },
  {
    name: "fractional duration",
    kind: codeInterpreterKind,
    object: codei({ sessionTimeout: "0.5m", maxSessionDuration: "1.5h" }),
  },
  {
    name: "shortest idle timeout",
    kind: codeInterpreterKind,
    object: codei({ sessionTimeout: "30s", maxSessionDuration: "1m" }),
  },
  {
    name: "PoolRequired with poolRef",
    kind: codeInterpreterKind,
    object: codei({ provisioning: { mode: "PoolRequired", poolRef: { name: "p" } } }),
  },
  {
    name: "Direct without poolRef",
    kind: codeInterpreterKind,
    object: codei({ provisioning: { mode: "Direct" } }),
  },
  {
    name: "full template",
    kind: codeInterpreterKind,
    object: codeiTemplate({
      command: ["/bin/agent"],
      args: ["--port", "9000"],
      port: 65535,
      readinessPath: "/ready?deep=1",
      env: [
        { name: "A", value: "1" },
        { name: "B", valueFrom: { configMapKeyRef: { name: "cfg", key: "b", optional: true } } },
        { name: "C", valueFrom: { secretKeyRef: { name: "sec", key: "c" } } },
        { name: "EMPTY" },
      ],
      resources: {
        requests: { cpu: 1, memory: "1Gi", "nvidia.com/gpu": 1 },
        limits: { cpu: "1000m", memory: "1Gi" },
      },
      runtimeClassName: "gvisor",
      nodeSelector: { "kubernetes.io/arch": "amd64" },
      tolerations: [{ operator: "Exists" }, { key: "dedicated", value: "sandboxes", effect: "NoSchedule" }],
      labels: { "app.kubernetes.io/name": "interpreter", team: "ml", "example.com/x": "" },
      annotations: { "example.com/note": "anything: at all" },
    }),
  },
  {
    name: "zero replicas",
    kind: sandboxPoolKind,
    object: pool({ replicas: 0, sandboxTemplate: template() }),
  },
  {
    name: "pool from a runtime",
    kind: sandboxPoolKind,
    object: pool({ runtimeRef: { name: "agent", namespace: "team-a" } }),
  },
  {
    name: "claim with template",
    kind: sandboxClaimKind,
    object: claim({ sandboxTemplate: template(), mode: "PoolRequired" }),
  },
  {
    name: "session with overrides",
    kind: agentSessionKind,
    object: session({ maxSessionDuration: "10m", provisioning: { mode: "Direct" } }),
  },
  {
    name: "runtime with warm pool",
    kind: agentRuntimeKind,
    object: object(agentRuntimeKind, { sandboxTemplate: template(), warmPool: { replicas: 0 } }),
  },
  {
    name: "claimed sandbox",
    kind: sandboxKind,
    object: sandbox({ templateHash: "0123abcd", claimRef: { name: "c", uid: "u-1" } }),
  },
  {
    name: "63-character name",
    kind: sandboxKind,
    object: object(sandboxKind, { sandboxTemplate: template() }, "s".repeat(63)),
  },
];
