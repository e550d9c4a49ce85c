/**
 * SandboxClaim: takes one Sandbox from a pool, or creates one when its mode allows. A claim is a one-shot
 * request, so its spec is immutable; the claimed Sandbox is owned by the claim and deleted with it.
 */
import * as v from "valibot";
import { conditionsSchema } from "./condition";
import { kindNames } from "./group";
import { defineKind } from "./kind";
import { localReference } from "./references";
import { sandboxTemplateSchema } from "./sandbox-template";
import { celRule } from "./schema/cel-rule";
import { boundedString, int32, int64, objectName } from "./schema/fields";
import { immutable } from "./schema/immutable";
import { parseObject } from "./validate";

export const SANDBOX_CLAIM = kindNames("SandboxClaim", "sandboxclaims", "sbxc");

export const CLAIM_MODES = ["PoolPreferred", "PoolRequired"] as const;
export type ClaimMode = (typeof CLAIM_MODES)[number];

const spec = v.pipe(
  v.object({
    poolRef: v.optional(
      localReference(
        "The SandboxPool to take a sandbox from. Exclusive with sandboxTemplate.",
        "SandboxPool",
      ),
    ),
    sandboxTemplate: v.optional(
      v.pipe(
        sandboxTemplateSchema,
        v.description(
          "Take a sandbox from any pool in the namespace built from exactly this template. Exclusive with poolRef.",
        ),
      ),
    ),
    mode: v.optional(
      v.pipe(
        v.picklist(CLAIM_MODES),
        v.description(
          "PoolPreferred creates a sandbox from the template when no pooled one is free; PoolRequired waits " +
            "for a pooled one.",
        ),
      ),
      "PoolPreferred",
    ),
  }),
  celRule({
    rule: "has(self.poolRef) != has(self.sandboxTemplate)",
    message: "exactly one of poolRef and sandboxTemplate must be set",
    check: (self) => (self.poolRef === undefined) !== (self.sandboxTemplate === undefined),
  }),
  immutable("spec is immutable: create a new claim instead"),
  v.description("What to claim. Immutable."),
);

export const CLAIM_PHASES = ["Pending", "Bound", "Failed"] as const;
export type ClaimPhase = (typeof CLAIM_PHASES)[number];

const status = v.pipe(
  v.object({
    phase: v.optional(
      v.pipe(
        v.picklist(CLAIM_PHASES),
        v.description(
          "Pending until a sandbox is bound, then Bound; Failed when none can be (PoolRequired).",
        ),
      ),
    ),
    sandboxName: v.optional(objectName("The bound Sandbox.")),
    podName: v.optional(objectName("The bound Sandbox's pod.")),
    podIP: v.optional(boundedString("IP address of the pod.", 45)),
    port: v.optional(int32("Port on podIP where the sandbox serves.", 1, 65535)),
    conditions: v.optional(conditionsSchema),
    observedGeneration: v.optional(int64("The .metadata.generation this status reflects.", 0)),
  }),
  v.description("Observed state of the claim; condition Bound tells whether it holds a sandbox."),
);

export const sandboxClaimKind = defineKind({
  names: SANDBOX_CLAIM,
  source: "src/api/sandbox-claim.ts",
  description: "A request for one Sandbox, taken from a warm SandboxPool or created when the mode allows.",
  spec,
  status,
  printerColumns: [
    { name: "Phase", type: "string", jsonPath: ".status.phase", description: "Claim phase." },
    { name: "Pool", type: "string", jsonPath: ".spec.poolRef.name", description: "The pool." },
    { name: "Sandbox", type: "string", jsonPath: ".status.sandboxName", description: "The bound Sandbox." },
    { name: "Mode", type: "string", jsonPath: ".spec.mode", description: "Claim mode.", priority: 1 },
    {
      name: "Age",
      type: "date",
      jsonPath: ".metadata.creationTimestamp",
      description: "Time since creation.",
    },
  ],
});

export type SandboxClaim = v.InferOutput<typeof sandboxClaimKind.schema>;
export type SandboxClaimInput = v.InferInput<typeof sandboxClaimKind.schema>;
export type SandboxClaimSpec = SandboxClaim["spec"];

export function parseSandboxClaim(input: unknown): SandboxClaim {
  return parseObject(sandboxClaimKind, input);
}
