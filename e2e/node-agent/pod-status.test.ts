import { describe, expect, test } from "bun:test";
import { type ContainerView, type PodView, podPhase, renderPodStatus, type Terminated } from "./pod-status";
import type { Pod } from "./pod-types";

const pod = (
  restartPolicy: string,
  extra: Partial<NonNullable<Pod["spec"]>> = {},
  status?: Pod["status"],
): Pod => ({
  metadata: { name: "p", namespace: "ns" },
  spec: { restartPolicy, containers: [], ...extra },
  ...(status ? { status } : {}),
});
const exited = (exitCode: number): Terminated => ({
  kind: "terminated",
  exitCode,
  reason: exitCode === 0 ? "Completed" : "Error",
  startedAt: "2026-01-01T00:00:00Z",
  finishedAt: "2026-01-01T00:00:01Z",
});
const c = (state: ContainerView["state"], extra: Partial<ContainerView> = {}): ContainerView => ({
  name: "c",
  image: "img",
  state,
  restartCount: 0,
  ready: false,
  started: false,
  ...extra,
});
const running = (ready: boolean) =>
  c({ kind: "running", startedAt: "2026-01-01T00:00:00Z" }, { ready, started: true });
const view = (containers: ContainerView[], initContainers: ContainerView[] = []): PodView => ({
  hostIP: "127.0.0.1",
  podIP: "127.9.0.1",
  startTime: "2026-01-01T00:00:00Z",
  sandboxReady: true,
  containers,
  initContainers,
});

describe("pod phase", () => {
  test("follows the kubelet's rules for every restart policy", () => {
    const creating = c({ kind: "waiting", reason: "ContainerCreating" });
    expect(podPhase(pod("Always"), view([creating]))).toBe("Pending");
    expect(podPhase(pod("Always"), view([running(false)]))).toBe("Running");
    expect(podPhase(pod("Never"), view([c(exited(0))]))).toBe("Succeeded");
    expect(podPhase(pod("Never"), view([c(exited(0)), c(exited(2))]))).toBe("Failed");
    expect(podPhase(pod("OnFailure"), view([c(exited(0))]))).toBe("Succeeded");
    expect(podPhase(pod("OnFailure"), view([c(exited(1))]))).toBe("Running");
    expect(podPhase(pod("Never"), view([running(true), c(exited(1))]))).toBe("Running");
  });

  test("a crash-looping container counts as stopped, not waiting: the pod stays Running", () => {
    const backoff = c(
      { kind: "waiting", reason: "CrashLoopBackOff" },
      { lastTerminated: exited(3), restartCount: 2 },
    );
    expect(podPhase(pod("Always"), view([backoff]))).toBe("Running");
  });

  test("unfinished init containers keep the pod Pending; a failed one with restartPolicy Never fails it", () => {
    const app = c({ kind: "waiting", reason: "PodInitializing" });
    expect(podPhase(pod("Always"), view([app], [running(false)]))).toBe("Pending");
    expect(podPhase(pod("Never"), view([app], [c(exited(1))]))).toBe("Failed");
    expect(podPhase(pod("OnFailure"), view([app], [c(exited(1))]))).toBe("Pending");
    expect(podPhase(pod("Always"), view([running(true)], [c(exited(0))]))).toBe("Running");
  });

  test("a pod-level failure (activeDeadlineSeconds) wins", () => {
    expect(
      podPhase(pod("Always"), {
        ...view([running(true)]),
        failure: { reason: "DeadlineExceeded", message: "x" },
      }),
    ).toBe("Failed");
  });
});

describe("pod conditions", () => {
  const cond = (p: Pod, v: PodView, type: string) =>
    renderPodStatus(p, v, "2026-01-01T00:00:09Z").conditions?.find((x) => x.type === type);

  test("Ready and ContainersReady only when every container is ready", () => {
    const both = [running(true), { ...running(false), name: "d" }];
    expect(cond(pod("Always"), view(both), "Ready")).toMatchObject({
      status: "False",
      reason: "ContainersNotReady",
      message: "containers with unready status: [d]",
    });
    expect(cond(pod("Always"), view([running(true)]), "Ready")?.status).toBe("True");
    expect(cond(pod("Always"), view([running(true)]), "ContainersReady")?.status).toBe("True");
  });

  test("a readiness gate holds Ready back until its condition is True", () => {
    const gated = pod("Always", { readinessGates: [{ conditionType: "example.com/gate" }] });
    expect(cond(gated, view([running(true)]), "Ready")?.status).toBe("False");
    const open = pod(
      "Always",
      { readinessGates: [{ conditionType: "example.com/gate" }] },
      {
        conditions: [{ type: "example.com/gate", status: "True" }],
      },
    );
    expect(cond(open, view([running(true)]), "Ready")?.status).toBe("True");
  });

  test("conditions written by others are kept, and an unchanged condition keeps its transition time", () => {
    const before = pod(
      "Always",
      {},
      {
        conditions: [
          { type: "PodScheduled", status: "True", lastTransitionTime: "2025-01-01T00:00:00Z" },
          { type: "Ready", status: "True", lastTransitionTime: "2025-06-01T00:00:00Z" },
        ],
      },
    );
    const status = renderPodStatus(before, view([running(true)]), "2026-01-01T00:00:09Z");
    expect(status.conditions?.find((x) => x.type === "PodScheduled")?.lastTransitionTime).toBe(
      "2025-01-01T00:00:00Z",
    );
    expect(status.conditions?.find((x) => x.type === "Ready")?.lastTransitionTime).toBe(
      "2025-06-01T00:00:00Z",
    );
    expect(status.conditions?.find((x) => x.type === "Initialized")?.lastTransitionTime).toBe(
      "2026-01-01T00:00:09Z",
    );
  });

  test("container statuses carry state, last state, restart count and the pod IP", () => {
    const crashed = c(
      { kind: "running", startedAt: "2026-01-01T00:00:05Z" },
      {
        lastTerminated: exited(3),
        restartCount: 1,
        ready: true,
        started: true,
        containerID: "agentland://u/c/1",
      },
    );
    const status = renderPodStatus(pod("Always"), view([crashed]), "2026-01-01T00:00:09Z");
    expect(status.podIP).toBe("127.9.0.1");
    expect(status.podIPs).toEqual([{ ip: "127.9.0.1" }]);
    expect(status.containerStatuses?.[0]).toMatchObject({
      name: "c",
      ready: true,
      restartCount: 1,
      state: { running: { startedAt: "2026-01-01T00:00:05Z" } },
      lastState: { terminated: { exitCode: 3, reason: "Error" } },
      containerID: "agentland://u/c/1",
    });
  });
});
