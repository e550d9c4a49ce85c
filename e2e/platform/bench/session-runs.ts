/**
 * The latency phases of the end-to-end benchmark, each side by side with the same work done without
 * the gateway: new sessions from the warm pool (gateway vs. AgentCore RPC + korokd), and runs in an
 * existing session (gateway vs. korokd), one-shot and in a stateful context.
 */
import type { KubeClient } from "../../../src/kube/kube-client";
import { deleteSessionAndWait, sessionPod, waitPoolFull } from "./platform-probe";
import { type SandboxAccess, type SandboxTarget, timedRun } from "./sandbox-access";
import type { SessionSteps, SessionTimeline } from "./session-timeline";

export const RUN_BODY = JSON.stringify({ language: "python", code: "print(1+1)" });

export interface Gateway {
  readonly url: string;
  readonly apiKey: string;
}

export interface Where {
  readonly kube: KubeClient;
  readonly namespace: string;
  readonly pool: string;
}

const auth = (gw: Gateway, session?: string) => ({
  authorization: `Bearer ${gw.apiKey}`,
  "content-type": "application/json",
  ...(session ? { "x-agentland-session": session } : {}),
});
const bearer = (token: string) => ({ authorization: `Bearer ${token}`, "content-type": "application/json" });

export interface NewSessionSample {
  readonly totalMs: number;
  /** Gateway path: the steps on the critical path, relative to the request's start. */
  readonly steps?: CriticalSteps;
  /** Direct path: the RPC alone and korokd's first run alone. */
  readonly rpcMs?: number;
  readonly korokdMs?: number;
}

/** The two writes a new session waits for: its CodeInterpreter and the warm sandbox taken for it (sent together). */
export interface CriticalSteps {
  readonly sessionCreated: number;
  readonly sandboxTaken: number;
}

/** Steps relative to `t0`; undefined when a step was never seen. */
function relative(steps: SessionSteps, t0: number): CriticalSteps | undefined {
  const { sessionCreated, sandboxTaken } = steps;
  if (sessionCreated === undefined || sandboxTaken === undefined) return undefined;
  return { sessionCreated: sessionCreated - t0, sandboxTaken: sandboxTaken - t0 };
}

/** One new session through the gateway, from a full warm pool, deleted again (and gone) afterwards. */
export async function newSessionViaGateway(
  where: Where,
  gw: Gateway,
  timeline: SessionTimeline,
): Promise<NewSessionSample> {
  await waitPoolFull(where.kube, where.namespace, where.pool, 60_000);
  const t0 = performance.now();
  const res = await fetch(`${gw.url}/api/code-runner/run`, {
    method: "POST",
    headers: auth(gw),
    body: RUN_BODY,
  });
  const text = await res.text();
  const totalMs = performance.now() - t0;
  const session = res.headers.get("x-agentland-session") ?? "";
  if (!text.includes('"stdout":"2\\n"')) throw new Error(`new session answered ${res.status}: ${text}`);
  await Bun.sleep(20); // the last watch events may trail the answer by a moment
  const steps = relative(timeline.steps(session), t0);
  const remove = () => fetch(`${gw.url}/api/sessions/${session}`, { method: "DELETE", headers: auth(gw) });
  await deleteSessionAndWait(where.kube, where.namespace, session, remove, 60_000);
  return { totalMs, ...(steps ? { steps } : {}) };
}

/** The same without the gateway: CreateCodeInterpreter on AgentCore, then korokd's first run. */
export async function newSessionDirect(where: Where, access: SandboxAccess): Promise<NewSessionSample> {
  await waitPoolFull(where.kube, where.namespace, where.pool, 60_000);
  const signal = AbortSignal.timeout(60_000);
  const t0 = performance.now();
  const session = await access.agentcore.createCodeInterpreter("bench-direct", where.namespace, signal);
  const rpcMs = performance.now() - t0;
  const target = {
    sessionId: session.id,
    url: `http://${session.podIp}:${session.port}`,
    identity: session.podIdentity,
  };
  const headers = bearer(access.token(target)); // minted outside the timed part, as the gateway pre-mints
  const korokdMs = await timedRun(`${target.url}/api/execute`, headers, RUN_BODY);
  const remove = () => access.agentcore.deleteSession("bench-direct", session.id, where.namespace, signal);
  await deleteSessionAndWait(where.kube, where.namespace, session.id, remove, 60_000);
  return { totalMs: rpcMs + korokdMs, rpcMs, korokdMs };
}

export interface PairedRuns {
  readonly gateway: number[];
  readonly direct: number[];
}

/**
 * Runs in one existing session, gateway and korokd alternating call by call so drift hits both alike.
 * `pauseMs` before each call lets korokd's next pre-started interpreter finish booting.
 */
export async function existingSessionRuns(
  gw: Gateway,
  access: SandboxAccess,
  target: SandboxTarget,
  opts: { count: number; warmup: number; pauseMs: number; contextId?: string },
): Promise<PairedRuns> {
  const body = opts.contextId
    ? JSON.stringify({ language: "python", code: "print(1+1)", context_id: opts.contextId })
    : RUN_BODY;
  const out: PairedRuns = { gateway: [], direct: [] };
  for (let i = 0; i < opts.warmup + opts.count; i++) {
    if (opts.pauseMs > 0) await Bun.sleep(opts.pauseMs);
    const g = await timedRun(`${gw.url}/api/code-runner/run`, auth(gw, target.sessionId), body);
    if (opts.pauseMs > 0) await Bun.sleep(opts.pauseMs);
    const d = await timedRun(`${target.url}/api/execute`, bearer(access.token(target)), body);
    if (i >= opts.warmup) {
      out.gateway.push(g);
      out.direct.push(d);
    }
  }
  return out;
}

/** A session made through the gateway for the existing-session runs, its pod, and a Python context in it. */
export async function openSession(where: Where, gw: Gateway) {
  const created = await fetch(`${gw.url}/api/code-runner/contexts`, {
    method: "POST",
    headers: auth(gw),
    body: JSON.stringify({ language: "python" }),
  });
  const session = created.headers.get("x-agentland-session") ?? "";
  const { id } = (await created.json()) as { id: string };
  // The answer may come before the session's status names the pod (the create is answered from the
  // sandbox taken for it; the status write follows).
  const deadline = performance.now() + 10_000;
  for (;;) {
    const pod = await sessionPod(where.kube, where.namespace, session).catch((err: unknown) => {
      if (performance.now() > deadline) throw err;
      return undefined;
    });
    if (pod) return { target: pod, contextId: id };
    await Bun.sleep(20);
  }
}
