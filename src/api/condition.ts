/**
 * The condition type agentland's statuses share; the same shape and limits as Kubernetes' metav1.Condition,
 * so `kubectl wait --for=condition=Ready` works.
 */
import * as v from "valibot";
import { int64, timestamp } from "./schema/fields";
import { QUALIFIED_NAME_PATTERN } from "./schema/key-maps";
import { uniqueBy } from "./schema/list-map";

export const CONDITION_TYPES = {
  /** Sessions and Sandboxes: the pod is Ready and reachable. SandboxPools: all desired sandboxes are ready. */
  Ready: "Ready",
  /** AgentRuntimes: the runtime is valid and usable by sessions. */
  Accepted: "Accepted",
  /** SandboxClaims: a sandbox is bound to the claim. */
  Bound: "Bound",
} as const;

export const CONDITION_STATUSES = ["True", "False", "Unknown"] as const;
export type ConditionStatus = (typeof CONDITION_STATUSES)[number];

const REASON = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/;

export const conditionSchema = v.pipe(
  v.object({
    type: v.pipe(
      v.string(),
      v.maxLength(316, "must be at most 316 characters"),
      v.regex(new RegExp(QUALIFIED_NAME_PATTERN), "must be a qualified name such as Ready"),
      v.description("Type of the condition in CamelCase, e.g. Ready."),
    ),
    status: v.pipe(v.picklist(CONDITION_STATUSES), v.description("True, False or Unknown.")),
    observedGeneration: v.optional(int64("The .metadata.generation the condition was computed from.", 0)),
    lastTransitionTime: timestamp("When the status last changed."),
    reason: v.pipe(
      v.string(),
      v.minLength(1, "must not be empty"),
      v.maxLength(1024, "must be at most 1024 characters"),
      v.regex(REASON, "must be a CamelCase identifier"),
      v.description("Machine-readable CamelCase reason for the last transition."),
    ),
    message: v.pipe(
      v.string(),
      v.maxLength(32768, "must be at most 32768 characters"),
      v.description("Human-readable details about the last transition."),
    ),
  }),
  v.description("One aspect of the object's state."),
);

export type Condition = v.InferOutput<typeof conditionSchema>;

export const conditionsSchema = v.pipe(
  v.array(conditionSchema),
  v.maxLength(16, "at most 16 items"),
  uniqueBy("type"),
  v.description("The latest observations of the object's state, one per condition type."),
);
