import { describe, expect, test } from "bun:test";
import { parseSandbox } from "../../api/sandbox";
import type { Pod } from "./render-pod";
import { computeSandboxStatus, judgePod } from "./sandbox-status";

const T0 = "2030-01-01T00:00:00Z";
const T1 = "2030-01-01T00:00:05Z";

function sandbox(status?: Record<string, unknown>) {
  return parseSandbox({
    apiVersion: "agentland.fl0rencess720.app/v1alpha1",
    kind: "Sandbox",
    metadata: { name: "s", namespace: "ns", uid: "u", generation: 1 },
    spec: { sandboxTemplate: { image: "x", port: 9000 } },
    ...(status ? { status } : {}),
  });
}

function pod(status: NonNullable<Pod["status"]>): Pod {
  return { metadata: { name: "s", namespace: "ns" }, spec: { containers: [] }, status };
}

const readyPod = pod({
  phase: "Running",
  podIP: "127.1.0.5",
  conditions: [{ type: "Ready", status: "True" }],
});

describe("sandbox status", () => {
  test("Ready mirrors the pod's Ready condition, not Running", () => {
    const running = pod({
      phase: "Running",
      podIP: "127.1.0.5",
      conditions: [{ type: "Ready", status: "False" }],
    });
    expect(judgePod(running).phase).toBe("Pending");
    const status = computeSandboxStatus({ sandbox: sandbox(), pod: readyPod, now: T0 });
    expect(status).toMatchObject({
      phase: "Ready",
      podName: "s",
      podIP: "127.1.0.5",
      port: 9000,
      observedGeneration: 1,
    });
    expect(status.conditions?.[0]).toMatchObject({ type: "Ready", status: "True", reason: "PodReady" });
  });

  test("an unrunnable image fails the sandbox with the kubelet's reason and message", () => {
    const stuck = pod({
      phase: "Pending",
      containerStatuses: [
        {
          name: "sandbox",
          image: "nope",
          imageID: "",
          ready: false,
          restartCount: 0,
          state: { waiting: { reason: "ErrImagePull", message: "image nope not found" } },
        },
      ],
    });
    const status = computeSandboxStatus({ sandbox: sandbox(), pod: stuck, now: T0 });
    expect(status.phase).toBe("Failed");
    expect(status.conditions?.[0]).toMatchObject({
      status: "False",
      reason: "ErrImagePull",
      message: "image nope not found",
    });
  });

  test("a process that ended fails the sandbox and reports its exit code", () => {
    const ended = pod({
      phase: "Failed",
      containerStatuses: [
        {
          name: "sandbox",
          image: "x",
          imageID: "",
          ready: false,
          restartCount: 0,
          state: { terminated: { exitCode: 3, reason: "Error" } },
        },
      ],
    });
    const status = computeSandboxStatus({ sandbox: sandbox(), pod: ended, now: T0 });
    expect(status.phase).toBe("Failed");
    expect(status.conditions?.[0]?.reason).toBe("Error");
    expect(status.conditions?.[0]?.message).toContain("exit code 3");
  });

  test("a pod whose process ends because the pod is being deleted does not fail the sandbox", () => {
    const deleting: Pod = {
      metadata: { name: "s", namespace: "ns", deletionTimestamp: T0 },
      spec: { containers: [] },
      status: { phase: "Failed", containerStatuses: [] },
    };
    expect(judgePod(deleting)).toMatchObject({ phase: "Pending", reason: "PodTerminating" });
  });

  test("Failed is terminal: a later healthy pod does not revive the sandbox", () => {
    const failed = computeSandboxStatus({
      sandbox: sandbox(),
      pod: undefined,
      verdict: { phase: "Failed", reason: "PodDeleted", message: "gone" },
      now: T0,
    });
    const later = computeSandboxStatus({ sandbox: sandbox(failed), pod: readyPod, now: T1 });
    expect(later.phase).toBe("Failed");
    expect(later.conditions?.[0]).toMatchObject({ reason: "PodDeleted", lastTransitionTime: T0 });
  });

  test("recomputing an unchanged status yields an identical object", () => {
    const first = computeSandboxStatus({ sandbox: sandbox(), pod: readyPod, now: T0 });
    const second = computeSandboxStatus({ sandbox: sandbox(first), pod: readyPod, now: T1 });
    expect(second).toEqual(first);
  });
});
