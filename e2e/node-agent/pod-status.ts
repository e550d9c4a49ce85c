/**
 * Pure computation of a pod's status from what the agent knows about its containers, following the
 * kubelet: phase from container states (a container waiting to restart counts as stopped, so a
 * crash-looping pod with restartPolicy Always stays Running), conditions PodReadyToStartContainers,
 * Initialized, ContainersReady and Ready, and condition transition times kept when a status is unchanged.
 */
import type { ContainerStatus, Pod, PodCondition, PodStatus } from "./pod-types";

export type RunState =
  | { readonly kind: "waiting"; readonly reason: string; readonly message?: string }
  | { readonly kind: "running"; readonly startedAt: string }
  | {
      readonly kind: "terminated";
      readonly exitCode: number;
      readonly signal?: number;
      readonly reason: string;
      readonly message?: string;
      readonly startedAt: string;
      readonly finishedAt: string;
    };

export type Terminated = Extract<RunState, { kind: "terminated" }>;

export interface ContainerView {
  readonly name: string;
  readonly image: string;
  readonly state: RunState;
  readonly lastTerminated?: Terminated;
  readonly restartCount: number;
  readonly ready: boolean;
  readonly started: boolean;
  readonly containerID?: string;
}

export interface PodView {
  readonly podIP?: string;
  readonly hostIP: string;
  readonly startTime: string;
  /** The sandbox (IP, directories) exists. */
  readonly sandboxReady: boolean;
  readonly initContainers: readonly ContainerView[];
  readonly containers: readonly ContainerView[];
  /** Set when the pod failed as a whole (e.g. activeDeadlineSeconds): overrides the computed phase. */
  readonly failure?: { readonly reason: string; readonly message: string };
}

type Phase = "Pending" | "Running" | "Succeeded" | "Failed";

export function podPhase(pod: Pod, view: PodView): Phase {
  if (view.failure) return "Failed";
  const policy = pod.spec?.restartPolicy ?? "Always";
  const initFailed = view.initContainers.some(
    (c) => c.state.kind === "terminated" && c.state.exitCode !== 0 && policy === "Never",
  );
  if (initFailed) return "Failed";
  if (!initDone(view)) return "Pending";
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const c of view.containers) {
    const last =
      c.state.kind === "terminated" ? c.state : c.state.kind === "waiting" ? c.lastTerminated : undefined;
    if (c.state.kind === "running") running++;
    else if (last) {
      stopped++;
      if (last.exitCode === 0) succeeded++;
    } else waiting++;
  }
  if (waiting > 0) return "Pending";
  if (running > 0) return "Running";
  if (stopped === 0) return "Pending";
  if (policy === "Always") return "Running";
  if (stopped === succeeded) return "Succeeded";
  return policy === "Never" ? "Failed" : "Running";
}

function initDone(view: PodView): boolean {
  return view.initContainers.every((c) => c.state.kind === "terminated" && c.state.exitCode === 0);
}

export function isTerminalPhase(phase: string | undefined): boolean {
  return phase === "Succeeded" || phase === "Failed";
}

function condition(type: string, ok: boolean, reason?: string, message?: string) {
  return {
    type,
    status: ok ? "True" : "False",
    ...(ok || !reason ? {} : { reason }),
    ...(ok || !message ? {} : { message }),
  };
}

function podConditions(pod: Pod, view: PodView, phase: Phase): Omit<PodCondition, "lastTransitionTime">[] {
  const terminal = isTerminalPhase(phase);
  const unready = view.containers.filter((c) => !c.ready).map((c) => c.name);
  const uninit = view.initContainers.filter(
    (c) => !(c.state.kind === "terminated" && c.state.exitCode === 0),
  );
  const containersReady = !terminal && unready.length === 0;
  const gates = (pod.spec?.readinessGates ?? []).map((g) => g.conditionType);
  const gatesOk = gates.every((g) =>
    pod.status?.conditions?.some((c) => c.type === g && c.status === "True"),
  );
  const notReadyMsg = `containers with unready status: [${unready.join(" ")}]`;
  const reason = terminal ? "PodCompleted" : "ContainersNotReady";
  return [
    condition("PodReadyToStartContainers", view.sandboxReady && !terminal),
    condition(
      "Initialized",
      uninit.length === 0 || (terminal && view.initContainers.every((c) => c.state.kind === "terminated")),
      "ContainersNotInitialized",
      `containers with incomplete status: [${uninit.map((c) => c.name).join(" ")}]`,
    ),
    condition("ContainersReady", containersReady, reason, terminal ? undefined : notReadyMsg),
    condition(
      "Ready",
      containersReady && gatesOk,
      containersReady ? "ReadinessGatesNotReady" : reason,
      containersReady
        ? "corresponding condition of pod readiness gate is not true"
        : terminal
          ? undefined
          : notReadyMsg,
    ),
  ];
}

export function containerStatus(c: ContainerView): ContainerStatus {
  const state = (s: RunState) => {
    const { kind, ...rest } = s;
    return {
      [kind]: kind === "terminated" && c.containerID ? { ...rest, containerID: c.containerID } : rest,
    };
  };
  return {
    name: c.name,
    image: c.image,
    imageID: `agentland-host://${c.image}`,
    ready: c.ready,
    started: c.started,
    restartCount: c.restartCount,
    state: state(c.state),
    lastState: c.lastTerminated ? state(c.lastTerminated) : {},
    ...(c.containerID ? { containerID: c.containerID } : {}),
  } as ContainerStatus;
}

/** The whole status the agent owns; conditions it does not own (PodScheduled, gates) are carried over. */
export function renderPodStatus(pod: Pod, view: PodView, now: string): PodStatus {
  const phase = podPhase(pod, view);
  const previous = pod.status?.conditions ?? [];
  const ours = podConditions(pod, view, phase);
  const owned = new Set(ours.map((c) => c.type));
  const conditions = [
    ...previous.filter((c) => !owned.has(c.type)),
    ...ours.map((c) => {
      const before = previous.find((p) => p.type === c.type);
      const same = before?.status === c.status;
      return {
        ...c,
        lastProbeTime: null,
        lastTransitionTime: same && before?.lastTransitionTime ? before.lastTransitionTime : now,
      };
    }),
  ] as PodCondition[];
  return {
    ...pod.status,
    phase,
    conditions,
    hostIP: view.hostIP,
    hostIPs: [{ ip: view.hostIP }],
    ...(view.podIP ? { podIP: view.podIP, podIPs: [{ ip: view.podIP }] } : {}),
    startTime: view.startTime,
    initContainerStatuses: view.initContainers.map(containerStatus),
    containerStatuses: view.containers.map(containerStatus),
    ...(view.failure ? { reason: view.failure.reason, message: view.failure.message } : {}),
  };
}
