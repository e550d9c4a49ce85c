/**
 * Sandbox: exactly one pod built from a template. Created by a SandboxPool (warm, unclaimed), by a
 * SandboxClaim, or directly by a session controller. Adoption from a pool sets `claimRef` in one conditional
 * write; the CRD forbids moving a claimed Sandbox to another claim.
 */
import * as v from "valibot";
import { conditionsSchema } from "./condition";
import { kindNames } from "./group";
import { defineKind } from "./kind";
import { sandboxTemplateSchema } from "./sandbox-template";
import { boundedString, int32, int64, objectName } from "./schema/fields";
import { immutable, immutableField, setOnceField } from "./schema/immutable";
import { parseObject } from "./validate";

export const SANDBOX = kindNames("Sandbox", "sandboxes", "sbx");

const TEMPLATE_HASH = /^[a-z0-9]{1,63}$/;

const claimRef = v.pipe(
  v.object({
    name: objectName("Name of the SandboxClaim."),
    uid: v.optional(
      boundedString("UID of the SandboxClaim, so a recreated claim of the same name is not it.", 64),
    ),
  }),
  v.description("The SandboxClaim that holds this sandbox. Set once, when the sandbox is claimed."),
);

const spec = v.pipe(
  v.object({
    sandboxTemplate: v.pipe(
      sandboxTemplateSchema,
      immutable("sandboxTemplate is immutable"),
      v.description("The pod to run. Immutable: a different template is a different Sandbox."),
    ),
    templateHash: v.optional(
      v.pipe(
        v.string(),
        v.regex(TEMPLATE_HASH, "must be 1-63 lowercase letters or digits"),
        v.description("Hash of the normalized template, as computed by agentcore; pools match on it."),
      ),
    ),
    claimRef: v.optional(claimRef),
  }),
  immutableField("templateHash"),
  setOnceField("claimRef"),
  v.description("Desired state of the sandbox."),
);

export const SANDBOX_PHASES = ["Pending", "Ready", "Failed"] as const;
export type SandboxPhase = (typeof SANDBOX_PHASES)[number];

const status = v.pipe(
  v.object({
    phase: v.optional(
      v.pipe(
        v.picklist(SANDBOX_PHASES),
        v.description(
          "Pending until the pod's Ready condition is true, then Ready; Failed if the pod failed.",
        ),
      ),
    ),
    podName: v.optional(objectName("The pod.")),
    podIP: v.optional(boundedString("IP address of the pod.", 45)),
    port: v.optional(int32("Port on podIP where the sandbox serves.", 1, 65535)),
    conditions: v.optional(conditionsSchema),
    observedGeneration: v.optional(int64("The .metadata.generation this status reflects.", 0)),
  }),
  v.description("Observed state of the sandbox and its pod."),
);

export const sandboxKind = defineKind({
  names: SANDBOX,
  source: "src/api/sandbox.ts",
  description: "Exactly one hardened sandbox pod, built from a template.",
  spec,
  status,
  printerColumns: [
    { name: "Phase", type: "string", jsonPath: ".status.phase", description: "Sandbox phase." },
    {
      name: "Ready",
      type: "string",
      jsonPath: '.status.conditions[?(@.type=="Ready")].status',
      description: "Whether the pod is Ready.",
    },
    { name: "Pod", type: "string", jsonPath: ".status.podName", description: "The pod." },
    { name: "Claim", type: "string", jsonPath: ".spec.claimRef.name", description: "The claim holding it." },
    { name: "IP", type: "string", jsonPath: ".status.podIP", description: "Pod IP.", priority: 1 },
    {
      name: "Image",
      type: "string",
      jsonPath: ".spec.sandboxTemplate.image",
      description: "Image.",
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

export type Sandbox = v.InferOutput<typeof sandboxKind.schema>;
export type SandboxInput = v.InferInput<typeof sandboxKind.schema>;
export type SandboxSpec = Sandbox["spec"];

export function parseSandbox(input: unknown): Sandbox {
  return parseObject(sandboxKind, input);
}
