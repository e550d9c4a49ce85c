/**
 * When each step of a session's start became visible through the apiserver, per session name, on the
 * benchmark's clock (`performance.now()`): the CodeInterpreter created, a warm Sandbox taken for it (the
 * conditional write a create is answered from, sent alongside the session's POST), its SandboxClaim (named like the session) created and
 * bound, and the session's status Ready. The claim and the status come after the answer: they complete
 * the binding off the critical path. Seen through watches, so each time is the step's time plus one watch
 * delivery (sub-millisecond to a few ms on loopback), the same for all.
 */
import type { CodeInterpreter } from "../../../src/api/code-interpreter";
import { LABELS } from "../../../src/api/reserved-keys";
import { CODE_INTERPRETERS, SANDBOX_CLAIMS, SANDBOXES } from "../../../src/api/resource-types";
import type { Sandbox } from "../../../src/api/sandbox";
import type { SandboxClaim } from "../../../src/api/sandbox-claim";
import { createInformer } from "../../../src/kube/informer";
import type { KubeClient } from "../../../src/kube/kube-client";

export interface SessionSteps {
  sessionCreated?: number;
  /**
   * A pool's sandbox taken for the session: no longer controlled by the pool. Reserved for it by the RPC
   * replica alongside the session's POST (no owner yet, so possibly before the session is seen), or
   * pre-adopted after it (controlled by the session), or adopted by its claim.
   */
  sandboxTaken?: number;
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
  const sandboxes = createInformer(kube.resource(SANDBOXES), { namespace });
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
  const onSandbox = (sbx: Sandbox) => {
    const session = sbx.metadata.labels?.[LABELS.session];
    const controller = sbx.metadata.ownerReferences?.find((o) => o.controller);
    if (session && controller?.kind !== "SandboxPool") at(session).sandboxTaken ??= performance.now();
  };
  sessions.addHandlers({ onAdd: onSession, onUpdate: (_, ci) => onSession(ci), onDelete: () => undefined });
  claims.addHandlers({ onAdd: onClaim, onUpdate: (_, c) => onClaim(c), onDelete: () => undefined });
  sandboxes.addHandlers({ onAdd: onSandbox, onUpdate: (_, x) => onSandbox(x), onDelete: () => undefined });
  const all = [sessions, claims, sandboxes];
  for (const informer of all) informer.start();
  await Promise.all(all.map((i) => i.waitForSync()));
  return {
    steps: (session) => ({ ...seen.get(session) }),
    since: (t) => [...seen].filter(([, s]) => (s.sessionCreated ?? -1) >= t).map(([n, s]) => [n, { ...s }]),
    async stop() {
      await Promise.all(all.map((i) => i.stop()));
    },
  };
}
