/**
 * Objects the apiserver (through the CRDs) and `src/api` validation must judge alike. The unit tests run them
 * through `src/api`; `crd-validation.test.ts` runs them through the real apiserver. Each invalid case names
 * the field both must blame. Test data only: nothing in the product imports this file.
 */
import { agentRuntimeKind } from "./agent-runtime";
import { agentSessionKind } from "./agent-session";
import { codeInterpreterKind } from "./code-interpreter";
import type { KindDefinition } from "./kind";
import { sandboxKind } from "./sandbox";
import { sandboxClaimKind } from "./sandbox-claim";
import { sandboxPoolKind } from "./sandbox-pool";

type Json = Record<string, unknown>;

export interface CreateCase {
  readonly name: string;
  readonly kind: KindDefinition;
  readonly object: Json;
  /** For invalid objects: the field path the apiserver's message must name. */
  readonly field?: string;
}

export interface UpdateCase {
  readonly name: string;
  readonly kind: KindDefinition;
  readonly old: Json;
  readonly updated: Json;
  readonly field?: string;
}

const IMAGE = "agentland/code-interpreter:0.1.0";

export function object(kind: KindDefinition, spec: unknown, name = "example"): Json {
  return { apiVersion: kind.names.apiVersion, kind: kind.names.kind, metadata: { name }, spec };
}

const template = (extra: Json = {}) => ({ image: IMAGE, ...extra });
const codei = (spec: Json) => object(codeInterpreterKind, spec);
const codeiTemplate = (extra: Json) => codei({ sandboxTemplate: template(extra) });
const pool = (spec: Json) => object(sandboxPoolKind, spec);
const claim = (spec: Json) => object(sandboxClaimKind, spec);
const session = (spec: Json) => object(agentSessionKind, { runtimeRef: { name: "agent" }, ...spec });
const sandbox = (spec: Json) => object(sandboxKind, { sandboxTemplate: template(), ...spec });

/** Every case is invalid; `field` is where the apiserver reports it. */
export const INVALID_OBJECTS: readonly (CreateCase & { field: string })[] = [
  {
    name: "missing image",
    kind: codeInterpreterKind,
    object: codei({ sandboxTemplate: {} }),
    field: "spec.sandboxTemplate.image",
  },
  {
    name: "empty image",
    kind: codeInterpreterKind,
    object: codeiTemplate({ image: "" }),
    field: "spec.sandboxTemplate.image",
  },
  {
    name: "image with whitespace",
    kind: codeInterpreterKind,
    object: codeiTemplate({ image: "a b" }),
    field: "spec.sandboxTemplate.image",
  },
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
    name: "reserved agentland label",
    kind: codeInterpreterKind,
    object: codeiTemplate({ labels: { "agentland.fl0rencess720.app/pool": "stolen" } }),
    field: "spec.sandboxTemplate.labels",
  },
  {
    name: "reserved kubernetes.io annotation",
    kind: codeInterpreterKind,
    object: codeiTemplate({ annotations: { "kubernetes.io/psp": "x" } }),
    field: "spec.sandboxTemplate.annotations",
  },
  {
    name: "reserved k8s.io subdomain label",
    kind: sandboxPoolKind,
    object: pool({ sandboxTemplate: template({ labels: { "node.k8s.io/x": "y" } }) }),
    field: "spec.sandboxTemplate.labels",
  },
  {
    name: "label key not a qualified name",
    kind: codeInterpreterKind,
    object: codeiTemplate({ labels: { "bad key!": "x" } }),
    field: "spec.sandboxTemplate.labels",
  },
  {
    name: "label value too long",
    kind: codeInterpreterKind,
    object: codeiTemplate({ labels: { team: "x".repeat(64) } }),
    field: "spec.sandboxTemplate.labels.team",
  },
  {
    name: "port 0",
    kind: codeInterpreterKind,
    object: codeiTemplate({ port: 0 }),
    field: "spec.sandboxTemplate.port",
  },
  {
    name: "port above 65535",
    kind: codeInterpreterKind,
    object: codeiTemplate({ port: 65536 }),
    field: "spec.sandboxTemplate.port",
  },
  {
    name: "env with value and valueFrom",
    kind: codeInterpreterKind,
    object: codeiTemplate({
      env: [{ name: "A", value: "1", valueFrom: { secretKeyRef: { name: "s", key: "k" } } }],
    }),
    field: "spec.sandboxTemplate.env[0]",
  },
  {
    name: "env valueFrom with no source",
    kind: codeInterpreterKind,
    object: codeiTemplate({ env: [{ name: "A", valueFrom: {} }] }),
    field: "spec.sandboxTemplate.env[0].valueFrom",
  },
  {
    name: "duplicate env names",
    kind: codeInterpreterKind,
    object: codeiTemplate({
      env: [
        { name: "A", value: "1" },
        { name: "A", value: "2" },
      ],
    }),
    field: "spec.sandboxTemplate.env[1]",
  },
  {
    name: "env name starting with a digit",
    kind: codeInterpreterKind,
    object: codeiTemplate({ env: [{ name: "1ABC", value: "x" }] }),
    field: "spec.sandboxTemplate.env[0].name",
  },
  {
    name: "request above limit",
    kind: codeInterpreterKind,
    object: codeiTemplate({ resources: { requests: { memory: "2Gi" }, limits: { memory: "1Gi" } } }),
    field: "spec.sandboxTemplate.resources",
  },
  {
    name: "whole-number request above a string limit",
    kind: sandboxPoolKind,
    object: pool({
      sandboxTemplate: template({ resources: { requests: { cpu: 2 }, limits: { cpu: "1500m" } } }),
    }),
    field: "spec.sandboxTemplate.resources",
  },
  {
    name: "quantity that is not one",
    kind: codeInterpreterKind,
    object: codeiTemplate({ resources: { limits: { cpu: "lots" } } }),
    field: "spec.sandboxTemplate.resources.limits.cpu",
  },
  {
    name: "negative quantity",
    kind: codeInterpreterKind,
    object: codeiTemplate({ resources: { limits: { cpu: -1 } } }),
    field: "spec.sandboxTemplate.resources.limits.cpu",
  },
  {
    name: "runtimeClassName not a DNS name",
    kind: codeInterpreterKind,
    object: codeiTemplate({ runtimeClassName: "G_Visor" }),
    field: "spec.sandboxTemplate.runtimeClassName",
  },
  {
    name: "readinessPath without leading slash",
    kind: codeInterpreterKind,
    object: codeiTemplate({ readinessPath: "healthz" }),
    field: "spec.sandboxTemplate.readinessPath",
  },
  {
    name: "toleration Exists with a value",
    kind: codeInterpreterKind,
    object: codeiTemplate({ tolerations: [{ key: "k", operator: "Exists", value: "v" }] }),
    field: "spec.sandboxTemplate.tolerations[0]",
  },
  {
    name: "unknown toleration effect",
    kind: codeInterpreterKind,
    object: codeiTemplate({ tolerations: [{ key: "k", value: "v", effect: "Sometimes" }] }),
    field: "spec.sandboxTemplate.tolerations[0].effect",
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
];

/** Every case is valid, many of them on a boundary next to an invalid case above. */
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

const withSpec = (base: Json, spec: Json): Json => ({
  ...base,
  spec: { ...(base["spec"] as Json), ...spec },
});

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
