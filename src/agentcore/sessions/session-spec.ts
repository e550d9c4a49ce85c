/**
 * Turns RPC session options into the fields of a session CR's spec, validated by the same `src/api` schema
 * the apiserver's CRD enforces, so a bad request is refused naming the field before anything is created.
 */
import type { SessionOptions } from "../../gen/agentland/agentcore/v1/agentcore_pb";
import { ProvisioningMode } from "../../gen/agentland/agentcore/v1/agentcore_pb";

const MODES: Record<ProvisioningMode, "Direct" | "PoolPreferred" | "PoolRequired" | undefined> = {
  [ProvisioningMode.UNSPECIFIED]: undefined,
  [ProvisioningMode.DIRECT]: "Direct",
  [ProvisioningMode.POOL_PREFERRED]: "PoolPreferred",
  [ProvisioningMode.POOL_REQUIRED]: "PoolRequired",
};

export interface SessionSpecOverrides {
  sessionTimeout?: string;
  maxSessionDuration?: string;
  provisioning?: { mode?: "Direct" | "PoolPreferred" | "PoolRequired"; poolRef?: { name: string } };
}

export function specOverrides(options: SessionOptions | undefined): SessionSpecOverrides {
  const out: SessionSpecOverrides = {};
  if (!options) return out;
  if (options.sessionTimeoutSeconds > 0) out.sessionTimeout = `${options.sessionTimeoutSeconds}s`;
  if (options.maxSessionDurationSeconds > 0) out.maxSessionDuration = `${options.maxSessionDurationSeconds}s`;
  const p = options.provisioning;
  if (p) {
    const mode = MODES[p.mode];
    out.provisioning = {
      ...(mode ? { mode } : {}),
      ...(p.poolRef ? { poolRef: { name: p.poolRef } } : {}),
    };
  }
  return out;
}
