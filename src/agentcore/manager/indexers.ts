/**
 * The cache indexes reconcilers query (names in controllers/object-cache.ts). Indexers see raw objects and
 * read only fields whose shape the apiserver guarantees (metadata) or that agentland itself writes.
 */
import type { AgentSession } from "../../api/agent-session";
import type { CodeInterpreter } from "../../api/code-interpreter";
import type { Sandbox } from "../../api/sandbox";
import type { SandboxClaim } from "../../api/sandbox-claim";
import { SANDBOX_POOL, type SandboxPool } from "../../api/sandbox-pool";
import type { Indexer } from "../../kube/informer";
import type { KubeObject } from "../../kube/kube-object";
import { INDEX } from "../controllers/object-cache";
import { controllerOf } from "../controllers/owner-refs";
import { reservationOf } from "../controllers/reservation-annotation";

export const byController: Indexer<KubeObject> = (o) => {
  const uid = o.metadata?.ownerReferences?.find((r) => r.controller === true)?.uid;
  return uid ? [uid] : [];
};

/**
 * A sandbox a claim could adopt now: Ready, unclaimed, not being deleted, controlled by a pool. Filed under
 * its pool (poolRef claims) and under namespace + template hash (template claims).
 */
export function availableKeys(s: Sandbox): string[] {
  const owner = controllerOf(s);
  if (owner?.kind !== SANDBOX_POOL.kind || s.spec?.claimRef || s.metadata?.deletionTimestamp) return [];
  if (s.status?.phase !== "Ready") return [];
  return [`pool:${owner.uid}`, `hash:${s.metadata.namespace}/${s.spec?.templateHash ?? ""}`];
}

export const sandboxIndexers: Readonly<Record<string, Indexer<Sandbox>>> = {
  [INDEX.controller]: byController as Indexer<Sandbox>,
  [INDEX.claimUid]: (s) => (s.spec?.claimRef?.uid ? [s.spec.claimRef.uid] : []),
  [INDEX.available]: availableKeys,
};

export const claimIndexers: Readonly<Record<string, Indexer<SandboxClaim>>> = {
  [INDEX.controller]: byController as Indexer<SandboxClaim>,
  [INDEX.unbound]: (c) => (c.status?.sandboxName ? [] : [c.metadata?.namespace ?? ""]),
};

const runtimeOf = (o: {
  metadata?: { namespace?: string | undefined };
  spec?: { runtimeRef?: { name: string; namespace?: string | undefined } | undefined };
}) => {
  const ref = o.spec?.runtimeRef;
  return ref ? [`${ref.namespace ?? o.metadata?.namespace ?? ""}/${ref.name}`] : [];
};

export const poolIndexers: Readonly<Record<string, Indexer<SandboxPool>>> = {
  [INDEX.controller]: byController as Indexer<SandboxPool>,
  [INDEX.runtime]: runtimeOf,
};

/** A session's reservation, filed under the sandbox it names (whether or not its PUT ever landed). */
const reservationOfSession = (o: KubeObject) => {
  const r = o.metadata ? reservationOf({ metadata: o.metadata }) : undefined;
  return r ? [`${o.metadata?.namespace ?? ""}/${r.sandbox}`] : [];
};

export const codeInterpreterIndexers: Readonly<Record<string, Indexer<CodeInterpreter>>> = {
  [INDEX.reservation]: reservationOfSession,
};

export const agentSessionIndexers: Readonly<Record<string, Indexer<AgentSession>>> = {
  [INDEX.runtime]: runtimeOf,
  [INDEX.reservation]: reservationOfSession,
};
