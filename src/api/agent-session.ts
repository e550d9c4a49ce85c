/**
 * AgentSession: one session with an agent. `runtimeRef` names the AgentRuntime; anything set here overrides
 * the runtime's default for this session only.
 */
import * as v from "valibot";
import { kindNames } from "./group";
import { defineKind } from "./kind";
import { provisioningSchema } from "./provisioning";
import { runtimeReference } from "./references";
import { sandboxTemplateSchema } from "./sandbox-template";
import { immutable, immutableField } from "./schema/immutable";
import { maxSessionDuration, sessionStatusSchema, sessionTimeout, timeoutsInOrder } from "./session";
import { parseObject } from "./validate";

export const AGENT_SESSION = kindNames("AgentSession", "agentsessions", "ags");

const spec = v.pipe(
  v.object({
    runtimeRef: v.pipe(
      runtimeReference("The AgentRuntime this session runs. Immutable."),
      immutable("runtimeRef is immutable"),
    ),
    sandboxTemplate: v.optional(
      v.pipe(
        sandboxTemplateSchema,
        v.description("Replaces (does not merge with) the runtime's sandboxTemplate for this session."),
      ),
    ),
    provisioning: v.optional(
      v.pipe(provisioningSchema, v.description("Overrides the runtime's provisioning for this session.")),
    ),
    sessionTimeout: v.optional(sessionTimeout),
    maxSessionDuration: v.optional(maxSessionDuration),
  }),
  timeoutsInOrder(),
  immutableField("sandboxTemplate"),
  immutableField("provisioning"),
  v.description(
    "Desired state of the agent session. Timeouts left out come from the runtime; only they may change " +
      "after creation.",
  ),
);

export const agentSessionKind = defineKind({
  names: AGENT_SESSION,
  source: "src/api/agent-session.ts",
  description:
    "A session with an agent: one sandbox pod built from an AgentRuntime, kept until it is idle for " +
    "sessionTimeout or reaches maxSessionDuration.",
  spec,
  status: sessionStatusSchema,
  printerColumns: [
    { name: "Runtime", type: "string", jsonPath: ".spec.runtimeRef.name", description: "The AgentRuntime." },
    { name: "Phase", type: "string", jsonPath: ".status.phase", description: "Session phase." },
    {
      name: "Ready",
      type: "string",
      jsonPath: '.status.conditions[?(@.type=="Ready")].status',
      description: "Whether the sandbox pod is Ready.",
    },
    { name: "Pod", type: "string", jsonPath: ".status.podName", description: "The sandbox pod." },
    { name: "IP", type: "string", jsonPath: ".status.podIP", description: "Pod IP.", priority: 1 },
    {
      name: "Age",
      type: "date",
      jsonPath: ".metadata.creationTimestamp",
      description: "Time since creation.",
    },
  ],
});

export type AgentSession = v.InferOutput<typeof agentSessionKind.schema>;
export type AgentSessionInput = v.InferInput<typeof agentSessionKind.schema>;
export type AgentSessionSpec = AgentSession["spec"];

export function parseAgentSession(input: unknown): AgentSession {
  return parseObject(agentSessionKind, input);
}
