/**
 * The life of one container of a pod: start it, probe it, wait for it to exit or be killed, restart it
 * as `restartPolicy` says with the kubelet's crash back-off, and describe its state for the pod status
 * at every step. Never reports Running before the process exists, nor ready before the readiness
 * probe passed; an image no rule maps leaves it waiting with ErrImageNeverPull.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { abortableSleep } from "../../src/kube/clock";
import { ContainerConfigError } from "./container-env";
import { execInContainer } from "./container-exec";
import type { Launch } from "./container-launch";
import { type ContainerProcess, type ExitInfo, startContainerProcess } from "./container-process";
import { type CrashBackoffPolicy, createCrashBackoff } from "./crash-backoff";
import type { ImageMap, ImageTarget } from "./image-map";
import type { ContainerView, RunState, Terminated } from "./pod-status";
import type { Container, Pod } from "./pod-types";
import { type ProbeContext, runHandler } from "./probe";
import { type ProbeKind, type ProbeWorker, startProbeWorker } from "./probe-worker";

export interface RunnerDeps {
  readonly pod: () => Pod;
  readonly container: Container;
  readonly kind: "init" | "app";
  readonly images: ImageMap;
  readonly launch: (image: ImageTarget, terminationLog: string, signal: AbortSignal) => Promise<Launch>;
  /** Directory for this container's log files (`<restartCount>.log`) and termination-log. */
  readonly dir: string;
  readonly logDir: string;
  readonly podIP: string;
  readonly backoff: CrashBackoffPolicy;
  readonly now: () => number;
  /** Waiting reason before the first start: ContainerCreating, or PodInitializing behind init containers. */
  readonly initialReason?: string;
  onChange(): void;
  event(type: "Normal" | "Warning", reason: string, message: string): void;
}

export interface ContainerRunner {
  view(): ContainerView;
  /** Runs until the container is finished for good (by restartPolicy) or stopped. */
  run(): Promise<void>;
  /** preStop hook, SIGTERM, SIGKILL after `graceMs`; resolves when the container is gone. */
  stop(graceMs: number): Promise<void>;
}

export const rfc3339 = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

export function createContainerRunner(deps: RunnerDeps): ContainerRunner {
  const c = deps.container;
  const ctl = new AbortController();
  const backoff = createCrashBackoff(deps.backoff);
  let state: RunState = { kind: "waiting", reason: deps.initialReason ?? "ContainerCreating" };
  let lastTerminated: Terminated | undefined;
  let restartCount = 0;
  let ready = false;
  let started = false;
  let containerID: string | undefined;
  let proc: ContainerProcess | undefined;
  let launched: Launch | undefined;
  let probes: ProbeWorker[] = [];
  let killReason: string | undefined;
  const termLog = join(deps.dir, "termination-log");

  const set = (next: Partial<{ state: RunState; ready: boolean; started: boolean }>) => {
    if (next.state) state = next.state;
    if (next.ready !== undefined) ready = next.ready;
    if (next.started !== undefined) started = next.started;
    deps.onChange();
  };
  const grace = () => (deps.pod().spec?.terminationGracePeriodSeconds ?? 30) * 1000;

  const probeCtx = (): ProbeContext => ({
    podIP: deps.podIP,
    container: c,
    exec: async (command, timeoutMs, signal) => {
      const pid = proc ? await proc.mainPid() : undefined;
      if (pid === undefined || !launched)
        return { exitCode: 126, output: "container is not running", timedOut: false };
      return execInContainer({ ...launched.exec, targetPid: pid }, command, timeoutMs, signal);
    },
  });

  function startProbe(kind: ProbeKind, onOk: () => void, onFail: (msg: string | undefined) => void) {
    const probe =
      kind === "startup" ? c.startupProbe : kind === "liveness" ? c.livenessProbe : c.readinessProbe;
    if (!probe) return;
    const label = `${kind[0]?.toUpperCase()}${kind.slice(1)}`;
    probes.push(
      startProbeWorker({
        kind,
        probe,
        ctx: probeCtx(),
        onChange: (ok, msg) => (ok ? onOk() : onFail(msg)),
        onFailure: (msg) => deps.event("Warning", "Unhealthy", `${label} probe failed: ${msg}`),
      }),
    );
  }

  const kill = (reason: string) => {
    if (killReason || !proc) return;
    killReason = reason;
    deps.event("Normal", "Killing", `Container ${c.name} ${reason}, will be restarted`);
    const p = proc;
    void p.stop(grace()).catch(() => undefined);
  };

  function startProbes() {
    const afterStart = () => {
      set({ started: true, ready: !c.readinessProbe });
      startProbe(
        "liveness",
        () => undefined,
        () => kill("failed liveness probe"),
      );
      startProbe(
        "readiness",
        () => set({ ready: true }),
        () => set({ ready: false }),
      );
    };
    if (c.startupProbe) startProbe("startup", afterStart, () => kill("failed startup probe"));
    else afterStart();
  }

  async function stopProbes() {
    const all = probes;
    probes = [];
    await Promise.all(all.map((p) => p.stop()));
  }

  function terminationMessage(exit: ExitInfo): string | undefined {
    let msg = "";
    try {
      msg = readFileSync(termLog, "utf8").slice(0, 4096);
    } catch {
      // no message written
    }
    if (!msg && exit.exitCode !== 0 && c.terminationMessagePolicy === "FallbackToLogsOnError") {
      try {
        const log = readFileSync(join(deps.logDir, `${restartCount}.log`), "utf8");
        msg = log.split("\n").slice(-80).join("\n").slice(-2048);
      } catch {
        // no log
      }
    }
    return msg || undefined;
  }

  /** One run of the process; returns how it ended. */
  async function runOnce(image: ImageTarget): Promise<Terminated> {
    mkdirSync(deps.logDir, { recursive: true });
    writeFileSync(termLog, "", { mode: 0o666 });
    launched = await deps.launch(image, termLog, ctl.signal);
    const startedAt = deps.now();
    killReason = undefined;
    proc = startContainerProcess({
      argv: launched.argv,
      env: launched.env,
      logFile: join(deps.logDir, `${restartCount}.log`),
    });
    containerID = `agentland://${deps.pod().metadata?.uid}/${c.name}/${restartCount}`;
    set({ state: { kind: "running", startedAt: rfc3339(startedAt) }, ready: false, started: false });
    deps.event("Normal", "Started", `Started container ${c.name}`);
    if (c.lifecycle?.postStart) await postStart();
    startProbes();
    const exit = await proc.exited;
    set({ ready: false, started: false });
    await stopProbes();
    const message = terminationMessage(exit);
    return {
      kind: "terminated",
      exitCode: exit.exitCode,
      ...(exit.signal === undefined ? {} : { signal: exit.signal }),
      reason: exit.exitCode === 0 ? "Completed" : "Error",
      ...(message ? { message } : {}),
      startedAt: rfc3339(startedAt),
      finishedAt: rfc3339(deps.now()),
    };
  }

  async function postStart() {
    const hook = c.lifecycle?.postStart;
    if (!hook) return;
    const r = await runHandler(hook, probeCtx(), grace(), ctl.signal);
    if (!r.ok) {
      deps.event("Warning", "FailedPostStartHook", r.message);
      kill("failed its PostStart hook");
    }
  }

  function shouldRestart(exitCode: number): boolean {
    const policy = deps.pod().spec?.restartPolicy ?? "Always";
    if (deps.kind === "init") return exitCode !== 0 && policy !== "Never";
    return policy === "Always" || (policy === "OnFailure" && exitCode !== 0);
  }

  async function resolveImage(): Promise<ImageTarget | undefined> {
    const image = deps.images.resolve(c.image ?? "");
    if (image) return image;
    const message = `image "${c.image}" is not in the node agent's image map and images are never pulled here; mapped: ${deps.images.describe().join("; ")}`;
    set({ state: { kind: "waiting", reason: "ErrImageNeverPull", message } });
    deps.event("Warning", "ErrImageNeverPull", message);
    await abortableSleep(2 ** 31 - 1, ctl.signal).catch(() => undefined);
    return undefined;
  }

  async function run(): Promise<void> {
    const image = await resolveImage();
    if (!image) return;
    while (!ctl.signal.aborted) {
      let result: Terminated;
      try {
        result = await runOnce(image);
      } catch (err) {
        if (ctl.signal.aborted) return;
        const reason = err instanceof ContainerConfigError ? err.reason : "RunContainerError";
        const message = err instanceof Error ? err.message : String(err);
        set({ state: { kind: "waiting", reason, message } });
        deps.event("Warning", "Failed", `Error: ${message}`);
        await abortableSleep(2000, ctl.signal).catch(() => undefined);
        continue;
      }
      proc = undefined;
      if (ctl.signal.aborted) {
        set({ state: result, ready: false });
        return;
      }
      if (!shouldRestart(result.exitCode)) {
        set({ state: result, ready: false });
        return;
      }
      const delay = backoff.next(Date.parse(result.finishedAt) - Date.parse(result.startedAt));
      lastTerminated = result;
      if (delay > 0) {
        const message = `back-off ${Math.round(delay / 1000)}s restarting failed container=${c.name} pod=${deps.pod().metadata?.name}`;
        set({
          state: { kind: "waiting", reason: "CrashLoopBackOff", message },
          ready: false,
          started: false,
        });
        deps.event("Warning", "BackOff", `Back-off restarting failed container ${c.name}`);
        await abortableSleep(delay, ctl.signal).catch(() => undefined);
        if (ctl.signal.aborted) return;
      }
      restartCount++;
    }
  }

  return {
    view: () => ({
      name: c.name,
      image: c.image ?? "",
      state,
      ...(lastTerminated ? { lastTerminated } : {}),
      restartCount,
      ready,
      started,
      ...(containerID ? { containerID } : {}),
    }),
    run,
    async stop(graceMs) {
      ctl.abort();
      const p = proc;
      if (!p) return;
      const deadline = Date.now() + graceMs;
      const preStop = c.lifecycle?.preStop;
      if (preStop) {
        const r = await runHandler(preStop, probeCtx(), graceMs, AbortSignal.timeout(graceMs));
        if (!r.ok) deps.event("Warning", "FailedPreStopHook", r.message);
      }
      await stopProbes();
      await p.stop(Math.max(0, deadline - Date.now()));
    },
  };
}
