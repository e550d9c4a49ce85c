/**
 * When each step of a session's start became visible through the apiserver, per session name, on the
 * benchmark's clock (`performance.now()`): the CodeInterpreter created, its SandboxClaim (named like the
 * session) created and bound to a warm Sandbox, and the session Ready. Seen through watches, so each time
 * is the step's time plus one watch delivery (sub-millisecond to a few ms on loopback), the same for all.
 */
import type { CodeInterpreter } from "../../../src/api/code-interpreter";
import { CODE_INTERPRETERS, SANDBOX_CLAIMS } from "../../../src/api/resource-types";
import type { SandboxClaim } from "../../../src/api/sandbox-claim";
import { createInformer } from "../../../src/kube/informer";
import type { KubeClient } from "../../../src/kube/kube-client";

export interface SessionSteps {
  sessionCreated?: number;
  claimCreated?: number;
  claimBound?: number;
  sessionReady?: number;
}

export interface SessionTimeline {
  steps(session: string): SessionSteps;
  /** Every session first seen at or after `since`, with its steps. */
  since(since: number): [string, SessionSteps][];
  stop(): Promise<void>;
}

export async function watchSessionTimeline(kube: KubeClient, namespace: string): Promise<SessionTimeline> {
  const seen = new Map<string, SessionSteps>();
  const at = (name: string) => {
    const s = seen.get(name) ?? {};
    seen.set(name, s);
    return s;
  };
  const sessions = createInformer(kube.resource(CODE_INTERPRETERS), { namespace });
  const claims = createInformer(kube.resource(SANDBOX_CLAIMS), { namespace });
  const onSession = (ci: CodeInterpreter) => {
    const s = at(ci.metadata.name ?? "");
    s.sessionCreated ??= performance.now();
    const ready = ci.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
    if (ready && ci.status?.podIP) s.sessionReady ??= performance.now();
  };
  const onClaim = (claim: SandboxClaim) => {
    const s = at(claim.metadata.name ?? "");
    s.claimCreated ??= performance.now();
    if (claim.status?.phase === "Bound" || claim.status?.sandboxName) s.claimBound ??= performance.now();
  };
  sessions.addHandlers({ onAdd: onSession, onUpdate: (_, ci) => onSession(ci), onDelete: () => undefined });
  claims.addHandlers({ onAdd: onClaim, onUpdate: (_, c) => onClaim(c), onDelete: () => undefined });
  sessions.start();
  claims.start();
  await Promise.all([sessions.waitForSync(), claims.waitForSync()]);
  return {
    steps: (session) => ({ ...seen.get(session) }),
    since: (t) => [...seen].filter(([, s]) => (s.sessionCreated ?? -1) >= t).map(([n, s]) => [n, { ...s }]),
    async stop() {
      await Promise.all([sessions.stop(), claims.stop()]);
    },
  };
}
