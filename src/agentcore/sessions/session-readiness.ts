/** Reads a session CR's status into what AgentCore acts on: ready with an address, failed, or pending. */
import type { SessionObject } from "./session-kinds";

export type Readiness =
  | { readonly state: "ready"; readonly podIP: string; readonly port: number; readonly podName: string }
  | { readonly state: "failed"; readonly reason: string; readonly message: string }
  | { readonly state: "pending"; readonly reason: string; readonly message: string };

const DEFAULT_PORT = 1883;

export function readiness(obj: SessionObject): Readiness {
  const status = obj.status;
  const ready = status?.conditions?.find((c) => c.type === "Ready");
  if (status?.phase === "Failed") {
    return {
      state: "failed",
      reason: ready?.reason ?? "Failed",
      message: ready?.message ?? "session failed",
    };
  }
  if (ready?.status === "True" && status?.podIP && status.podName) {
    return {
      state: "ready",
      podIP: status.podIP,
      port: status.port ?? DEFAULT_PORT,
      podName: status.podName,
    };
  }
  return {
    state: "pending",
    reason: ready?.reason ?? "Pending",
    message: ready?.message ?? "waiting for the sandbox to become Ready",
  };
}
