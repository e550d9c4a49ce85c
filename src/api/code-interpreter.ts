/**
 * CodeInterpreter: a code-execution session. agentcore creates one per gateway session; its controller
 * provisions a sandbox running korokd (through a SandboxClaim or directly as a Sandbox) and reports the pod.
 */
import * as v from "valibot";
import { kindNames } from "./group";
import { defineKind } from "./kind";
import { provisioningSchema } from "./provisioning";
import { sandboxTemplateSchema } from "./sandbox-template";
import { immutableField } from "./schema/immutable";
import {
  DEFAULT_MAX_SESSION_DURATION,
  DEFAULT_SESSION_TIMEOUT,
  maxSessionDuration,
  sessionStatusSchema,
  sessionTimeout,
  timeoutsInOrder,
} from "./session";
import { parseObject } from "./validate";

export const CODE_INTERPRETER = kindNames("CodeInterpreter", "codeinterpreters", "codei");

const spec = v.pipe(
  v.object({
    sandboxTemplate: v.optional(
      v.pipe(
        sandboxTemplateSchema,
        v.description(
          "The sandbox to run code in; it must serve korokd's API. When absent, agentcore's configured " +
            "code-interpreter template is used.",
        ),
      ),
    ),
    sessionTimeout: v.optional(sessionTimeout, DEFAULT_SESSION_TIMEOUT),
    maxSessionDuration: v.optional(maxSessionDuration, DEFAULT_MAX_SESSION_DURATION),
    provisioning: v.optional(provisioningSchema, {}),
  }),
  timeoutsInOrder(),
  immutableField("sandboxTemplate"),
  immutableField("provisioning"),
  v.description("Desired state of the code-execution session. Only the timeouts may change after creation."),
);

export const codeInterpreterKind = defineKind({
  names: CODE_INTERPRETER,
  source: "src/api/code-interpreter.ts",
  description:
    "A code-execution session: one sandbox pod running korokd, kept until it is idle for sessionTimeout " +
    "or reaches maxSessionDuration.",
  spec,
  status: sessionStatusSchema,
  printerColumns: [
    { name: "Phase", type: "string", jsonPath: ".status.phase", description: "Session phase." },
    {
      name: "Ready",
      type: "string",
      jsonPath: '.status.conditions[?(@.type=="Ready")].status',
      description: "Whether the sandbox pod is Ready.",
    },
    { name: "Pod", type: "string", jsonPath: ".status.podName", description: "The sandbox pod." },
    { name: "Mode", type: "string", jsonPath: ".spec.provisioning.mode", description: "Provisioning mode." },
    { name: "IP", type: "string", jsonPath: ".status.podIP", description: "Pod IP.", priority: 1 },
    {
      name: "Last-Activity",
      type: "date",
      jsonPath: ".status.lastActivityTime",
      description: "Last activity seen by the gateway.",
      priority: 1,
    },
    {
      name: "Age",
      type: "date",
      jsonPath: ".metadata.creationTimestamp",
      description: "Time since creation.",
    },
  ],
});

export type CodeInterpreter = v.InferOutput<typeof codeInterpreterKind.schema>;
export type CodeInterpreterInput = v.InferInput<typeof codeInterpreterKind.schema>;
export type CodeInterpreterSpec = CodeInterpreter["spec"];

/** Validates and defaults a CodeInterpreter; throws `ApiValidationError` naming every bad field. */
export function parseCodeInterpreter(input: unknown): CodeInterpreter {
  return parseObject(codeInterpreterKind, input);
}
