/**
 * What a Sandbox's status should say, computed from its pod alone. `Ready` mirrors the pod's `Ready`
 * condition (the readiness probe passed), never mere Running. A pod that cannot start or whose process ended
 * makes the Sandbox `Failed` — terminal: its session's state is gone, so it is reported, not papered over.
 */
import type { Condition } from "../../api/condition";
import type { Sandbox, SandboxPhase } from "../../api/sandbox";
import { setCondition } from "./conditions";
import { type Pod, SANDBOX_CONTAINER } from "./render-pod";

export type SandboxStatus = NonNullable<Sandbox["status"]>;

/** Container waiting reasons that mean the process will not start without someone changing something. */
const UNRUNNABLE = new Set([
  "ErrImagePull",
  "ImagePullBackOff",
  "InvalidImageName",
  "ErrImageNeverPull",
  "CreateContainerConfigError",
  "CreateContainerError",
  "RunContainerError",
  "CrashLoopBackOff",
]);

export interface PodVerdict {
  readonly phase: SandboxPhase;
  readonly reason: string;
  readonly message: string;
}

/** Reads a pod's state as a sandbox phase with a machine reason and a human message. */
export function judgePod(pod: Pod | undefined): PodVerdict {
  if (!pod) return { phase: "Pending", reason: "PodCreating", message: "creating the sandbox pod" };
  // A pod on its way out ends its process on purpose: that is a deletion (handled by the Sandbox
  // controller), not a failure of the sandbox.
  if (pod.metadata?.deletionTimestamp)
    return { phase: "Pending", reason: "PodTerminating", message: "the sandbox pod is being deleted" };
  const status = pod.status ?? {};
  const container = status.containerStatuses?.find((c) => c.name === SANDBOX_CONTAINER);
  const terminated = container?.state?.terminated;
  if (status.phase === "Failed" || status.phase === "Succeeded") {
    const exit = terminated ? ` (exit code ${terminated.exitCode})` : "";
    return {
      phase: "Failed",
      reason: terminated?.reason || status.reason || (status.phase === "Failed" ? "PodFailed" : "PodExited"),
      message: status.message || terminated?.message || `the sandbox process ended${exit}`,
    };
  }
  const waiting = container?.state?.waiting;
  if (waiting?.reason && UNRUNNABLE.has(waiting.reason))
    return { phase: "Failed", reason: waiting.reason, message: waiting.message || waiting.reason };
  const ready = status.conditions?.find((c) => c.type === "Ready");
  if (ready?.status === "True")
    return { phase: "Ready", reason: "PodReady", message: "the sandbox pod is ready" };
  const scheduled = status.conditions?.find((c) => c.type === "PodScheduled");
  if (scheduled?.status === "False")
    return {
      phase: "Pending",
      reason: scheduled.reason || "Unschedulable",
      message: scheduled.message || "",
    };
  // Transient states (ContainerCreating, probe warming up) share one reason and message on purpose: each
  // distinct value would be one more status write per sandbox, and on the claim and session mirroring it.
  return { phase: "Pending", reason: "PodNotReady", message: "waiting for the sandbox pod to become ready" };
}

export interface SandboxStatusInput {
  readonly sandbox: Sandbox;
  readonly pod: Pod | undefined;
  /** Overrides the pod's verdict, e.g. a claimed sandbox whose pod was deleted. */
  readonly verdict?: PodVerdict;
  /** RFC 3339 now, used only where a condition changes status. */
  readonly now: string;
}

export function computeSandboxStatus(input: SandboxStatusInput): SandboxStatus {
  const { sandbox, pod, now } = input;
  const current = sandbox.status ?? {};
  const generation = sandbox.metadata.generation;
  // Failed is terminal: a later pod event (a replacement, a deletion) never turns it back.
  const verdict: PodVerdict =
    current.phase === "Failed"
      ? {
          phase: "Failed",
          reason: readyCondition(current.conditions)?.reason ?? "Failed",
          message: readyCondition(current.conditions)?.message ?? "",
        }
      : (input.verdict ?? judgePod(pod));
  const conditions = setCondition(
    current.conditions,
    {
      type: "Ready",
      status: verdict.phase === "Ready" ? "True" : "False",
      reason: verdict.reason,
      message: verdict.message,
    },
    now,
    generation,
  );
  // The address is published once it is worth connecting to (Ready), then kept for as long as that pod
  // lives (so "has served" is visible: see the Sandbox controller), and on failure for diagnosis.
  const ip = pod?.status?.podIP;
  const podIP =
    verdict.phase === "Ready"
      ? ip
      : verdict.phase === "Failed"
        ? (ip ?? current.podIP)
        : ip !== undefined && ip === current.podIP
          ? ip
          : undefined;
  return {
    phase: verdict.phase,
    ...(pod?.metadata?.name || current.podName ? { podName: pod?.metadata?.name ?? current.podName } : {}),
    ...(podIP ? { podIP } : {}),
    port: sandbox.spec.sandboxTemplate.port,
    conditions,
    ...(generation === undefined ? {} : { observedGeneration: generation }),
  };
}

function readyCondition(conditions: readonly Condition[] | undefined): Condition | undefined {
  return conditions?.find((c) => c.type === "Ready");
}
