/**
 * How a session gets its sandbox. Pools are matched by exact template hash, never "any pod": with a poolRef
 * the named pool is used; without one, a pool in the namespace built from the same template.
 */
import * as v from "valibot";
import { localReference } from "./references";
import { celRule } from "./schema/cel-rule";

export const PROVISIONING_MODES = ["Direct", "PoolPreferred", "PoolRequired"] as const;
export type ProvisioningMode = (typeof PROVISIONING_MODES)[number];

export const DEFAULT_PROVISIONING_MODE: ProvisioningMode = "PoolPreferred";

export const provisioningSchema = v.pipe(
  v.object({
    mode: v.optional(
      v.pipe(
        v.picklist(PROVISIONING_MODES),
        v.description(
          "Direct creates a new sandbox. PoolPreferred takes a warm sandbox from a matching pool and creates " +
            "one when none is free. PoolRequired only takes from a pool and waits until one is free.",
        ),
      ),
      DEFAULT_PROVISIONING_MODE,
    ),
    poolRef: v.optional(
      localReference(
        "The SandboxPool to take from. When absent, a pool in the same namespace whose template matches " +
          "exactly is used.",
        "SandboxPool",
      ),
    ),
  }),
  celRule({
    rule: "self.mode != 'Direct' || !has(self.poolRef)",
    message: "poolRef cannot be used with mode Direct",
    fieldPath: ".poolRef",
    reason: "FieldValueForbidden",
    check: (self) => self.mode !== "Direct" || self.poolRef === undefined,
  }),
  v.description("How the session gets its sandbox: directly, or from a warm SandboxPool."),
);

export type Provisioning = v.InferOutput<typeof provisioningSchema>;
