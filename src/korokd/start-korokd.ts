/**
 * Starts korokd: loads the gateway's keys, checks the interpreters, boots the python fork server and
 * pre-starts one interpreter per other runtime, and serves the API. Stopping drains requests, kills what
 * still runs within the deadline and removes korokd's scratch directory.
 */
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { RunningComponent } from "../component";
import type { KorokdSettings } from "../config/modes";
import { serveApp } from "../http/serve-app";
import { createLogger, type Logger } from "../log/logger";
import { type AppOptions, createApp, type HealthReport } from "./app/create-app";
import { createJwksFile } from "./auth/jwks-file";
import { createReplayCache } from "./auth/replay-cache";
import { createTokenVerifier } from "./auth/token-verifier";
import { systemClock } from "./clock";
import { createContextRegistry } from "./contexts/context-registry";
import { createExecutor } from "./exec/executor";
import { createForkServer } from "./exec/fork-server";
import type { SpawnedChild } from "./exec/interpreter";
import type { RuntimeKind, RuntimePaths } from "./exec/languages";
import { createOomCounter } from "./exec/oom-counter";
import { createOrphanReaper } from "./exec/orphan-reaper";
import { createRunLimiter } from "./exec/run-limiter";
import { baseEnv } from "./exec/sandbox-env";
import { createWarmPool } from "./exec/warm-pool";
import { warmUp } from "./warm-up";

export type KorokdStartSettings = KorokdSettings & { "listen-host": string };

const REPLAY_CACHE_CAPACITY = 100_000;
const REAP_INTERVAL_MS = 5000;
const WARMED_RUNTIMES = ["python", "bash"] as const;
/** Longest wait for the warm-up's replacement interpreters to boot before korokd reports ready anyway. */
const SETTLE_TIMEOUT_MS = 1000;
/** Longest wait for the python zygote before the warm-up runs without it. */
const ZYGOTE_BOOT_TIMEOUT_MS = 3000;

export interface RunningKorokd extends RunningComponent {
  /**
   * Resolves once the warm-up is over (at once without one), true if every path went through;
   * /health reports ready only after it.
   */
  readonly warmedUp: Promise<boolean>;
}

export function startKorokd(settings: KorokdStartSettings): RunningKorokd {
  const log = createLogger("korokd", settings["log-level"]);
  const auth = createAuth(settings, log);
  const exec = createExecution(settings, log);
  const shutdown = new AbortController();
  let warm = false;
  const appOptions: AppOptions = {
    verifier: auth.verifier,
    executor: exec.executor,
    contexts: exec.contexts,
    health: (): HealthReport => {
      const checks = { keys: auth.jwks.current() !== undefined, ...exec.checks, warmed_up: warm };
      return { ready: Object.values(checks).every(Boolean), checks };
    },
    bodyLimitBytes: settings["body-limit-bytes"],
    defaultTimeoutMs: settings["default-timeout"],
    maxTimeoutMs: settings["max-timeout"],
    heartbeatMs: settings["sse-heartbeat"],
    shutdown: shutdown.signal,
    log,
  };
  const server = serveApp(createApp(appOptions), {
    hostname: settings["listen-host"],
    port: settings["listen-port"],
    // Headroom over the API's own limit, so an oversize body gets korokd's JSON 413, not Bun's.
    maxRequestBodySize: settings["body-limit-bytes"] * 2 + 1024 * 1024,
    // Runs may stay silent for minutes; the gateway is the only client (NetworkPolicy).
    idleTimeout: 0,
  });
  log.info("korokd ready to serve", { url: server.url, audience: auth.audience, checks: exec.checks });
  const warmedUp = beginWarmUp(settings, { auth, exec, appOptions, url: server.url }).then((ok) => {
    warm = true;
    return ok;
  });
  return {
    url: server.url,
    warmedUp,
    async stop(deadlineMs) {
      auth.jwks.stop();
      // Running executions get most of the deadline to finish, then are killed so the drain ends in time.
      const killer = setTimeout(
        () => shutdown.abort(),
        Math.max(0, deadlineMs - settings["kill-grace"] - 500),
      );
      try {
        await server.stop(deadlineMs);
      } finally {
        clearTimeout(killer);
        shutdown.abort();
        await warmedUp;
        await exec.stop();
      }
    },
  };
}

/** The warm-up, or nothing when it is switched off; never rejects, so readiness follows either way. */
function beginWarmUp(
  settings: KorokdStartSettings,
  parts: {
    auth: ReturnType<typeof createAuth>;
    exec: ReturnType<typeof createExecution>;
    appOptions: AppOptions;
    url: string;
  },
): Promise<boolean> {
  if (!settings["warm-up"]) return Promise.resolve(true);
  const { auth, exec, appOptions } = parts;
  // The python warm-up run should take the fork path a claimed pod's runs take.
  const zygote = exec.forkServer?.ready(ZYGOTE_BOOT_TIMEOUT_MS) ?? Promise.resolve(true);
  return zygote.then(() =>
    warmUp({
      appWith: (verifier) => createApp({ ...appOptions, verifier }),
      url: parts.url,
      languages: exec.warmable,
      settle: async () => {
        // The pool starts replacements on the next turn of the event loop.
        await new Promise((resolve) => setImmediate(resolve));
        await exec.pool.settled(SETTLE_TIMEOUT_MS);
      },
      issuer: settings["token-issuer"],
      audience: auth.audience,
      clock: systemClock,
      signal: appOptions.shutdown,
      log: appOptions.log,
    }),
  );
}

function createAuth(settings: KorokdStartSettings, log: Logger) {
  const audience = podIdentity(settings);
  const jwks = createJwksFile({
    path: settings["jwks-path"],
    pollIntervalMs: settings["jwks-poll-interval"],
    log,
  });
  const verifier = createTokenVerifier({
    jwks,
    replay: createReplayCache({ clock: systemClock, capacity: REPLAY_CACHE_CAPACITY }),
    clock: systemClock,
    issuer: settings["token-issuer"],
    audience,
    maxLifetimeMs: settings["token-max-lifetime"],
    clockSkewMs: settings["token-clock-skew"],
  });
  return { audience, jwks, verifier };
}

/** Interpreters, warm pool, contexts and the executor, plus the health checks they contribute. */
function createExecution(settings: KorokdStartSettings, log: Logger) {
  const { workspace, workspaceReady, dirs, paths, runtimes } = prepareHost(settings);
  const reaper = createOrphanReaper({
    enabled: settings.subreaper === "true" || (settings.subreaper === "auto" && process.pid === 1),
    intervalMs: REAP_INTERVAL_MS,
    log,
  });
  const track = (child: SpawnedChild) => reaper.track(child);
  const oom = createOomCounter();
  log.info("oom kills counted", {
    source: oom.source ?? "nowhere: out-of-memory kills show as exit 137 only",
  });
  const env = baseEnv(workspace);
  const available = (Object.keys(runtimes) as RuntimeKind[]).filter((r) => runtimes[r]);
  // The zygote takes the place of the pre-started python: one booted interpreter either way.
  const forkServer =
    settings["fork-server"] && runtimes.python && workspaceReady
      ? createForkServer({ python: paths.python, workspace, baseEnv: env, onSpawn: track, log })
      : undefined;
  const pool = createWarmPool({
    enabled: settings.prewarm,
    runtimes: forkServer === undefined ? available : available.filter((r) => r !== "python"),
    paths,
    dirs,
    baseEnv: env,
    onSpawn: track,
    log,
  });
  if (workspaceReady) pool.fill();
  const contexts = createContextRegistry({
    paths,
    baseEnv: env,
    workspace,
    maxContexts: settings["max-contexts"],
    killGraceMs: settings["kill-grace"],
    clock: systemClock,
    onSpawn: track,
    oom,
  });
  const executor = createExecutor({
    pool,
    forkServer,
    limiter: createRunLimiter(settings["max-concurrent-runs"]),
    contexts,
    dirs,
    outputLimitBytes: settings["output-limit-bytes"],
    killGraceMs: settings["kill-grace"],
    oom,
    afterRun: () => reaper.poke(),
  });
  const stop = async () => {
    forkServer?.stop();
    pool.stop();
    await contexts.stopAll();
    reaper.stop();
    rmSync(dirs.scratch, { recursive: true, force: true });
  };
  // Only runtimes whose no-op program goes over stdin or into korokd's scratch dir: a JS run would put a
  // file into the user's workspace, even if briefly.
  const warmable = workspaceReady ? WARMED_RUNTIMES.filter((r) => runtimes[r]) : [];
  return {
    executor,
    contexts,
    pool,
    forkServer,
    checks: { workspace: workspaceReady, ...runtimes },
    warmable,
    stop,
  };
}

/** Directories and interpreters on this machine; what is missing shows up in the health checks. */
function prepareHost(settings: KorokdStartSettings) {
  const workspace = settings["workspace-dir"];
  const workspaceReady = ensureDir(workspace);
  const dirs = { workspace, scratch: mkdtempSync(join(settings["scratch-dir"], "korokd-")) };
  const paths: RuntimePaths = {
    python: settings["python-path"],
    bash: settings["bash-path"],
    sh: settings["sh-path"],
    bun: process.execPath,
  };
  return { workspace, workspaceReady, dirs, paths, runtimes: presentRuntimes(paths) };
}

/** `aud` of every accepted token: `<namespace>/<pod name>` from the downward API. */
function podIdentity(settings: KorokdStartSettings): string {
  const namespace = settings["pod-namespace"];
  const name = settings["pod-name"];
  if (!namespace || !name) {
    throw new Error(
      "korokd needs its pod identity to check token audiences: set POD_NAMESPACE and POD_NAME (downward API)",
    );
  }
  return `${namespace}/${name}`;
}

function ensureDir(dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function presentRuntimes(paths: RuntimePaths): Record<RuntimeKind, boolean> {
  const executable = (path: string) => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  return {
    python: executable(paths.python),
    bun: executable(paths.bun),
    bash: executable(paths.bash),
    sh: executable(paths.sh),
  };
}
