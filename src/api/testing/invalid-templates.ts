/** Invalid sandbox templates; `field` is where the apiserver reports the problem (test data). */
import { codeInterpreterKind } from "../code-interpreter";
import { sandboxPoolKind } from "../sandbox-pool";
import { type CreateCase, codei, codeiTemplate, pool, template } from "./case-objects";

export const INVALID_TEMPLATES: readonly (CreateCase & { field: string })[] = [
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
];
