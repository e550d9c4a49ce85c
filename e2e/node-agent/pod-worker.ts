/**
 * Runs one pod on this node from start to end, as the kubelet's pod worker does: set up the sandbox
 * (IP, directories, hosts file), mount volumes (retrying until their sources exist), run init
 * containers in order, then all containers, keep the status written, and stop: on deletion with the
 * grace period (then the final delete), on `activeDeadlineSeconds`, or when every container is done
 * for good (then the pod is terminal and its sandbox released, its status kept).
 */
import { abortableSleep } from "../../src/kube/clock";
import type { ApiserverAddress } from "./container-env";
import { type HostTools, prepareLaunch } from "./container-launch";
import { type ContainerRunner, createContainerRunner, rfc3339 } from "./container-runner";
import type { CrashBackoffPolicy } from "./crash-backoff";
import type { ImageMap } from "./image-map";
import type { PodIpPool } from "./pod-network";
import { createPodSandbox, type PodSandbox } from "./pod-sandbox";
import { isTerminalPhase, type PodView, podPhase, renderPodStatus } from "./pod-status";
import type { Container, ObjectSource, Pod, PodRuntimeInfo, PodStatus } from "./pod-types";
import { createPodVolumes, type PodVolumes, type TokenIssuer } from "./pod-volumes";
import { createStatusWriter, type StatusWriter } from "./status-writer";

export interface PodDns {
  /** Keeps `file` up to date with the hosts entries of a pod in `namespace`. */
  attach(
    uid: string,
    file: string,
    pod: { namespace: string; podIP: string; hostname: string; subdomain?: string },
  ): void;
  detach(uid: string): void;
}

export interface PodWorkerDeps {
  readonly stateDir: string;
  readonly hostIP: string;
  readonly api: ApiserverAddress;
  readonly allocatable: Readonly<Record<string, string>>;
  readonly images: ImageMap;
  readonly tools: HostTools;
  readonly objects: ObjectSource;
  readonly tokens: TokenIssuer;
  readonly pool: PodIpPool;
  readonly busyIp: (ip: string) => boolean;
  readonly dns: PodDns;
  readonly backoff: CrashBackoffPolicy;
  readonly volumeResyncMs: number;
  readonly now: () => number;
  writeStatus(pod: Pod, status: PodStatus, signal: AbortSignal): Promise<Pod>;
  finalDelete(pod: Pod): Promise<void>;
  event(pod: Pod, type: "Normal" | "Warning", reason: string, message: string): void;
  log(msg: string, fields?: Record<string, unknown>): void;
}

export interface PodWorker {
  readonly uid: string;
  update(pod: Pod): void;
  /** Stops every container within `graceMs`, releases the sandbox, and (if asked) deletes the object. */
  terminate(graceMs: number, opts: { finalDelete: boolean }): Promise<void>;
  /** True once the pod reached Succeeded/Failed and its sandbox was released. */
  isTerminal(): boolean;
  /** The pod's current IP (for tests and cleanup checks). */
  ip(): string | undefined;
}

export function startPodWorker(initial: Pod, deps: PodWorkerDeps): PodWorker {
  let pod = initial;
  const uid = pod.metadata?.uid ?? "";
  const ctl = new AbortController();
  const startTime = pod.status?.startTime ?? rfc3339(deps.now());
  let sandbox: PodSandbox | undefined;
  let volumes: PodVolumes | undefined;
  const inits: ContainerRunner[] = [];
  let apps: ContainerRunner[] = [];
  let failure: PodView["failure"];
  let terminal = false;
  let terminating: Promise<void> | undefined;
  const timers: ReturnType<typeof setTimeout>[] = [];
  const event = (type: "Normal" | "Warning", reason: string, message: string) =>
    deps.event(pod, type, reason, message);

  const view = (): PodView => ({
    ...(sandbox ? { podIP: sandbox.ip } : {}),
    hostIP: deps.hostIP,
    startTime,
    sandboxReady: sandbox !== undefined,
    initContainers: inits.map((r) => r.view()),
    containers: apps.map((r) => r.view()),
    ...(failure ? { failure } : {}),
  });

  const writer: StatusWriter = createStatusWriter({
    render: () => renderPodStatus(pod, view(), rfc3339(deps.now())),
    write: (status, signal) => deps.writeStatus(pod, status, signal),
    onWritten: (p) => {
      pod = p;
    },
    onError: (err) => deps.log("pod status write failed", { pod: key(pod), error: String(err) }),
  });

  const info = (): PodRuntimeInfo => ({
    podIP: sandbox?.ip ?? "",
    hostIP: deps.hostIP,
    allocatable: deps.allocatable,
  });

  function runner(container: Container, kind: "init" | "app", initialReason?: string): ContainerRunner {
    const sb = sandbox as PodSandbox;
    return createContainerRunner({
      pod: () => pod,
      container,
      kind,
      images: deps.images,
      launch: (image, terminationLogFile, signal) =>
        prepareLaunch({
          pod,
          container,
          image,
          info: info(),
          api: deps.api,
          objects: deps.objects,
          tools: deps.tools,
          volumes: volumes?.paths ?? new Map(),
          hostsFile: sb.hostsFile,
          terminationLogFile,
          signal,
        }),
      dir: sb.containerDir(container.name),
      logDir: sb.containerLogDir(container.name),
      podIP: sb.ip,
      backoff: deps.backoff,
      now: deps.now,
      ...(initialReason ? { initialReason } : {}),
      onChange: () => writer.kick(),
      event,
    });
  }

  async function mountVolumes(): Promise<boolean> {
    const v = createPodVolumes(pod, (sandbox as PodSandbox).dir, {
      objects: deps.objects,
      tokens: deps.tokens,
      info: info(),
    });
    let lastError = "";
    for (let attempt = 0; !ctl.signal.aborted; attempt++) {
      try {
        await v.sync(ctl.signal);
        volumes = v;
        return true;
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        if (message !== lastError) event("Warning", "FailedMount", message);
        lastError = message;
        await abortableSleep(Math.min(500 * 2 ** attempt, 8000), ctl.signal).catch(() => undefined);
      }
    }
    return false;
  }

  function keepVolumesFresh() {
    const tick = async () => {
      while (!ctl.signal.aborted) {
        await abortableSleep(deps.volumeResyncMs, ctl.signal).catch(() => undefined);
        if (ctl.signal.aborted || terminal) return;
        await volumes
          ?.sync(ctl.signal)
          .catch((err: unknown) => deps.log("volume refresh failed", { pod: key(pod), error: String(err) }));
      }
    };
    void tick().catch((err: unknown) =>
      deps.log("volume refresh stopped", { pod: key(pod), error: String(err) }),
    );
  }

  function watchDeadline() {
    const seconds = pod.spec?.activeDeadlineSeconds;
    if (seconds === undefined) return;
    const left = Date.parse(startTime) + seconds * 1000 - deps.now();
    timers.push(
      setTimeout(
        () => {
          failure = {
            reason: "DeadlineExceeded",
            message: `Pod was active on the node longer than the specified deadline`,
          };
          event("Normal", "DeadlineExceeded", failure.message);
          void stopContainers(gracePeriodMs())
            .then(finish)
            .catch((err: unknown) => deps.log("deadline stop failed", { pod: key(pod), error: String(err) }));
        },
        Math.max(0, left),
      ),
    );
  }

  const gracePeriodMs = () => (pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000;

  async function stopContainers(graceMs: number) {
    ctl.abort();
    await Promise.all([...inits, ...apps].map((r) => r.stop(graceMs)));
  }

  async function finish() {
    if (terminal || terminating) return;
    terminal = true;
    for (const t of timers) clearTimeout(t);
    await writer.flush(10_000);
    release();
  }

  function release() {
    deps.dns.detach(uid);
    sandbox?.destroy();
  }

  async function run() {
    sandbox = createPodSandbox(pod, deps.stateDir, {
      pool: deps.pool,
      hostIP: deps.hostIP,
      busy: deps.busyIp,
    });
    const spec = pod.spec;
    deps.dns.attach(uid, sandbox.hostsFile, {
      namespace: pod.metadata?.namespace ?? "default",
      podIP: sandbox.ip,
      hostname: (spec?.hostname || pod.metadata?.name || "pod").slice(0, 63),
      ...(spec?.subdomain ? { subdomain: spec.subdomain } : {}),
    });
    const initial = (spec?.initContainers ?? []).length > 0 ? "PodInitializing" : "ContainerCreating";
    apps = (spec?.containers ?? []).map((c) => runner(c, "app", initial));
    writer.kick();
    watchDeadline();
    if (!(await mountVolumes())) return;
    keepVolumesFresh();
    for (const c of spec?.initContainers ?? []) {
      const r = runner(c, "init");
      inits.push(r);
      writer.kick();
      await r.run();
      const s = r.view().state;
      if (ctl.signal.aborted || !(s.kind === "terminated" && s.exitCode === 0)) break;
    }
    if (!ctl.signal.aborted && inits.every((r) => r.view().state.kind === "terminated")) {
      const initsOk = inits.every((r) => {
        const s = r.view().state;
        return s.kind === "terminated" && s.exitCode === 0;
      });
      if (initsOk) await Promise.all(apps.map((r) => r.run()));
    }
    if (!terminating && isTerminalPhase(podPhase(pod, view()))) await finish();
  }

  const running = run().catch((err: unknown) => {
    deps.log("pod worker failed", { pod: key(pod), error: String(err instanceof Error ? err.stack : err) });
    event("Warning", "FailedCreatePodSandBox", String(err));
  });

  return {
    uid,
    update(next) {
      pod = next;
      writer.kick();
    },
    terminate(graceMs, opts) {
      terminating ??= (async () => {
        for (const t of timers) clearTimeout(t);
        await stopContainers(graceMs);
        await running;
        if (opts.finalDelete) await writer.flush(3_000);
        writer.stop();
        release();
        if (opts.finalDelete) await deps.finalDelete(pod);
      })();
      return terminating;
    },
    isTerminal: () => terminal,
    ip: () => sandbox?.ip,
  };
}

function key(pod: Pod): string {
  return `${pod.metadata?.namespace}/${pod.metadata?.name}`;
}

/** Deletion grace the agent honours: the object's `deletionGracePeriodSeconds`, else the pod's own. */
export function deletionGraceMs(pod: Pod): number {
  const s = pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
  return s * 1000;
}
