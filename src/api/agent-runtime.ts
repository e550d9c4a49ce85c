/**
 * AgentRuntime: a reusable template for running an agent image, with the provisioning and timeout defaults
 * its AgentSessions inherit. With `warmPool`, agentcore keeps a SandboxPool of it.
 */
import * as v from "valibot";
import { conditionsSchema } from "./condition";
import { kindNames } from "./group";
import { defineKind } from "./kind";
import { provisioningSchema } from "./provisioning";
import { sandboxTemplateSchema } from "./sandbox-template";
import { boundedString, int32, int64, objectName } from "./schema/fields";
import {
  DEFAULT_MAX_SESSION_DURATION,
  DEFAULT_SESSION_TIMEOUT,
  maxSessionDuration,
  sessionTimeout,
  timeoutsInOrder,
} from "./session";
import { parseObject } from "./validate";

export const AGENT_RUNTIME = kindNames("AgentRuntime", "agentruntimes", "agrt");

const spec = v.pipe(
  v.object({
    sandboxTemplate: v.pipe(sandboxTemplateSchema, v.description("The sandbox pod that runs the agent.")),
    provisioning: v.optional(
      v.pipe(provisioningSchema, v.description("Default provisioning for sessions of this runtime.")),
      {},
    ),
    sessionTimeout: v.optional(sessionTimeout, DEFAULT_SESSION_TIMEOUT),
    maxSessionDuration: v.optional(maxSessionDuration, DEFAULT_MAX_SESSION_DURATION),
    warmPool: v.optional(
      v.pipe(
        v.object({
          replicas: int32("How many warm, unclaimed sandboxes to keep.", 0, 1000),
        }),
        v.description(
          "When set, agentcore keeps a SandboxPool named after this runtime, built from sandboxTemplate, so " +
            "sessions in pool modes start on a warm sandbox.",
        ),
      ),
    ),
  }),
  timeoutsInOrder(),
  v.description("Desired state of the runtime. Sessions pick up changes when they are created."),
);

const status = v.pipe(
  v.object({
    conditions: v.optional(conditionsSchema),
    observedGeneration: v.optional(int64("The .metadata.generation this status reflects.", 0)),
    templateHash: v.optional(
      boundedString("Hash of the normalized sandboxTemplate; pools match it exactly.", 63),
    ),
    poolName: v.optional(objectName("The SandboxPool agentcore keeps for warmPool.")),
  }),
  v.description("Observed state of the runtime; condition Accepted tells whether sessions can use it."),
);

export const agentRuntimeKind = defineKind({
  names: AGENT_RUNTIME,
  source: "src/api/agent-runtime.ts",
  description:
    "A reusable template for an agent packaged as a container image: the sandbox pod, and provisioning and " +
    "timeout defaults for the AgentSessions that reference it.",
  spec,
  status,
  printerColumns: [
    { name: "Image", type: "string", jsonPath: ".spec.sandboxTemplate.image", description: "Agent image." },
    {
      name: "Mode",
      type: "string",
      jsonPath: ".spec.provisioning.mode",
      description: "Default provisioning.",
    },
    {
      name: "Accepted",
      type: "string",
      jsonPath: '.status.conditions[?(@.type=="Accepted")].status',
      description: "Whether sessions can use the runtime.",
    },
    { name: "Pool", type: "string", jsonPath: ".status.poolName", description: "Warm pool.", priority: 1 },
    {
      name: "Age",
      type: "date",
      jsonPath: ".metadata.creationTimestamp",
      description: "Time since creation.",
    },
  ],
});

export type AgentRuntime = v.InferOutput<typeof agentRuntimeKind.schema>;
export type AgentRuntimeInput = v.InferInput<typeof agentRuntimeKind.schema>;
export type AgentRuntimeSpec = AgentRuntime["spec"];

export function parseAgentRuntime(input: unknown): AgentRuntime {
  return parseObject(agentRuntimeKind, input);
}
