/**
 * SandboxPool: keeps `replicas` warm, Ready, unclaimed Sandboxes of one template, given directly or taken
 * from an AgentRuntime. Has the scale subresource, so `kubectl scale sbxp/NAME --replicas=N` works.
 */
import * as v from "valibot";
import { conditionsSchema } from "./condition";
import { kindNames } from "./group";
import { defineKind } from "./kind";
import { runtimeReference } from "./references";
import { sandboxTemplateSchema } from "./sandbox-template";
import { celRule } from "./schema/cel-rule";
import { boundedString, int32, int64 } from "./schema/fields";
import { parseObject } from "./validate";

export const SANDBOX_POOL = kindNames("SandboxPool", "sandboxpools", "sbxp");

const spec = v.pipe(
  v.object({
    replicas: v.optional(int32("How many warm, unclaimed sandboxes to keep.", 0, 1000), 1),
    sandboxTemplate: v.optional(
      v.pipe(sandboxTemplateSchema, v.description("The sandboxes' template. Exclusive with runtimeRef.")),
    ),
    runtimeRef: v.optional(
      runtimeReference(
        "Build the sandboxes from this AgentRuntime's template. Exclusive with sandboxTemplate.",
      ),
    ),
  }),
  celRule({
    rule: "has(self.sandboxTemplate) != has(self.runtimeRef)",
    message: "exactly one of sandboxTemplate and runtimeRef must be set",
    check: (self) => (self.sandboxTemplate === undefined) !== (self.runtimeRef === undefined),
  }),
  v.description(
    "Desired state of the pool. Changing the template replaces unclaimed sandboxes; claimed ones are kept.",
  ),
);

const count = (description: string) => int32(description, 0);

const status = v.pipe(
  v.object({
    replicas: v.optional(count("Unclaimed sandboxes the pool currently owns.")),
    readyReplicas: v.optional(count("Unclaimed sandboxes whose pod is Ready.")),
    availableReplicas: v.optional(
      count("Sandboxes ready to be claimed now: Ready, unclaimed, current template."),
    ),
    templateHash: v.optional(boundedString("Hash of the normalized template the pool builds from.", 63)),
    selector: v.optional(
      boundedString("Label selector of the pool's sandboxes, for the scale subresource.", 1024),
    ),
    conditions: v.optional(conditionsSchema),
    observedGeneration: v.optional(int64("The .metadata.generation this status reflects.", 0)),
  }),
  v.description("Observed state of the pool."),
);

export const sandboxPoolKind = defineKind({
  names: SANDBOX_POOL,
  source: "src/api/sandbox-pool.ts",
  description: "Keeps a number of warm, Ready, unclaimed Sandboxes of one template for fast session start.",
  spec,
  status,
  scale: {
    specReplicasPath: ".spec.replicas",
    statusReplicasPath: ".status.replicas",
    labelSelectorPath: ".status.selector",
  },
  printerColumns: [
    { name: "Desired", type: "integer", jsonPath: ".spec.replicas", description: "Desired warm sandboxes." },
    { name: "Current", type: "integer", jsonPath: ".status.replicas", description: "Unclaimed sandboxes." },
    { name: "Ready", type: "integer", jsonPath: ".status.readyReplicas", description: "Ready sandboxes." },
    {
      name: "Available",
      type: "integer",
      jsonPath: ".status.availableReplicas",
      description: "Sandboxes ready to be claimed.",
    },
    {
      name: "Runtime",
      type: "string",
      jsonPath: ".spec.runtimeRef.name",
      description: "Runtime.",
      priority: 1,
    },
    { name: "Template", type: "string", jsonPath: ".status.templateHash", description: "Hash.", priority: 1 },
    {
      name: "Age",
      type: "date",
      jsonPath: ".metadata.creationTimestamp",
      description: "Time since creation.",
    },
  ],
});

export type SandboxPool = v.InferOutput<typeof sandboxPoolKind.schema>;
export type SandboxPoolInput = v.InferInput<typeof sandboxPoolKind.schema>;
export type SandboxPoolSpec = SandboxPool["spec"];

export function parseSandboxPool(input: unknown): SandboxPool {
  return parseObject(sandboxPoolKind, input);
}
