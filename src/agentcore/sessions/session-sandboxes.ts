/**
 * The sandbox behind each session, as this replica's own watches of SandboxClaims and Sandboxes show it.
 *
 * A warm create is Ready the moment the leader's one conditional write moves a Ready sandbox to the
 * session's claim; the session CR's own status says so one status write (and one more watch delivery)
 * later. Every replica sees the adoption on its own watch of the same apiserver, so it can show the
 * session as Ready from then on — the same fields the leader is about to write (phase, pod name, IP and
 * port), taken from the same objects by the same rules:
 *
 * - pool modes: the claim named like the session and controlled by it (owner uid), and the live sandbox
 *   whose `spec.claimRef.uid` is that claim's uid (set once, by the adoption write — the CRD refuses to
 *   move it), with `status.phase` Ready;
 * - Direct: the sandbox named like the session and controlled by it.
 *
 * - pool modes, before the claim completes the binding: the live pool sandbox the session pre-adopted for
 *   its claim (controlled by the session's uid, no claimRef yet; see controllers/warm-adoption.ts). A warm
 *   create is Ready as soon as that write (the second of the create) lands: the claim may not even exist.
 *
 * Only Ready is ever inferred, and only over a status that says neither Ready, Failed nor Terminating: a
 * failure and everything after Ready come from the session's own status, written by the leader.
 *
 * The leader knows of its own adoptions a watch delivery before its watch shows them: `adopted` takes the
 * holder (claim, or pre-adopting session) and the sandbox as the conditional write returned them, and they
 * stand in for what the watches show until the watch shows that sandbox taken (or gone, or replaced).
 * Same objects, same rules; only earlier.
 */

import { LABELS } from "../../api/reserved-keys";
import { SANDBOX_CLAIMS, SANDBOXES } from "../../api/resource-types";
import type { Sandbox } from "../../api/sandbox";
import type { SandboxClaim } from "../../api/sandbox-claim";
import { SANDBOX_POOL } from "../../api/sandbox-pool";
import type { Clock } from "../../kube/clock";
import { createInformer, type Informer } from "../../kube/informer";
import type { KubeClient } from "../../kube/kube-client";
import type { Holder } from "../controllers/claim-bindings";
import { controllerOf, isControlledBy } from "../controllers/owner-refs";
import { isReservedFor, reservedSession } from "../controllers/reservation";
import { reservationOf } from "../controllers/reservation-annotation";
import { asReady, type Held } from "./session-as-ready";
import { kindOfSessionId, type SessionObject } from "./session-kinds";

export interface SessionSandboxes {
  start(): void;
  stop(): Promise<void>;
  /** `obj` as it will read once the leader mirrors its Ready sandbox; `obj` itself otherwise. */
  overlay(obj: SessionObject): SessionObject;
  /** Calls `handler` whenever the claim or sandbox of session `namespace/name` may have changed. */
  onChange(namespace: string, name: string, handler: () => void): () => void;
  /**
   * This replica's write bound `sandbox` to `holder`: a claim (adoption) or a session (pre-adoption);
   * objects as the apiserver returned them.
   */
  adopted(holder: Holder, sandbox: Sandbox): void;
  /**
   * Warm sandboxes a create may reserve (reservation.ts): Ready, live, controlled by the pool they are
   * labelled with, untaken. `source` is `pool:<pool name>` or `hash:<template hash>`.
   */
  warm(namespace: string, source: string): Sandbox[];
  /** Whether this replica sees any sandbox of the pool with this name (i.e. that pool exists). */
  poolSeen(namespace: string, poolName: string): boolean;
}

/** Sandboxes by the claim holding them (`spec.claimRef.name`), which is named like its session. */
const CLAIM_NAME_INDEX = "claim-name";
/** Sandboxes by the uid of their controlling owner (a session: Direct, or pre-adopted for its claim). */
const OWNER_INDEX = "owner-uid";
/** Warm sandboxes by `pool:<pool name>` and `hash:<template hash>`; see `warm`. */
const WARM_INDEX = "warm";
/** Sandboxes by the pool they are labelled with. */
const POOL_INDEX = "pool-label";
const SETTLED_PHASES: ReadonlySet<string> = new Set(["Ready", "Failed", "Terminating"]);
/** A written adoption the watch has not confirmed stands in for it at most this long. */
const WRITTEN_TTL_MS = 30_000;

interface Watched {
  readonly claims: Informer<SandboxClaim>;
  readonly sandboxes: Informer<Sandbox>;
  /** Adoptions this replica wrote, by claim name, until the sandbox watch shows them. */
  readonly written: Map<string, Written>;
}

interface Written {
  /** The adopting claim; absent for a session's pre-adoption. */
  readonly claim?: SandboxClaim;
  readonly sandbox: Sandbox;
  readonly at: number;
}

export function createSessionSandboxes(
  client: KubeClient,
  namespaces: readonly string[],
  clock: Clock,
): SessionSandboxes {
  const listeners = new Map<string, Set<() => void>>();
  const notify = (namespace: string | undefined, name: string | undefined) => {
    for (const handler of listeners.get(`${namespace}/${name}`) ?? []) handler();
  };
  const watched = new Map<string, Watched>();
  for (const namespace of namespaces) {
    const claims = createInformer(client.resource(SANDBOX_CLAIMS), { namespace });
    const sandboxes = createInformer(client.resource(SANDBOXES), {
      namespace,
      indexers: {
        [CLAIM_NAME_INDEX]: (s) => (s.spec?.claimRef ? [s.spec.claimRef.name] : []),
        [OWNER_INDEX]: (s) => {
          const uid = controllerOf(s)?.uid;
          return uid ? [uid] : [];
        },
        [WARM_INDEX]: warmKeys,
        [POOL_INDEX]: (s) => {
          const pool = s.metadata?.labels?.[LABELS.pool];
          return pool ? [pool] : [];
        },
      },
    });
    const claimChanged = (c: SandboxClaim) => notify(c.metadata?.namespace, c.metadata?.name);
    claims.addHandlers({ onAdd: claimChanged, onUpdate: (_o, c) => claimChanged(c), onDelete: claimChanged });
    // A sandbox concerns the session its claim is named after, or the session controlling it (Direct, or
    // pre-adopted); a pool's sandbox concerns nobody yet.
    const sandboxChanged = (s: Sandbox) =>
      notify(
        s.metadata?.namespace,
        s.spec?.claimRef?.name ?? controllerOf(s)?.name ?? reservedSession(s)?.name,
      );
    sandboxes.addHandlers({
      onAdd: sandboxChanged,
      onUpdate: (_o, s) => sandboxChanged(s),
      onDelete: sandboxChanged,
    });
    watched.set(namespace, { claims, sandboxes, written: new Map() });
  }
  const all = () => [...watched.values()].flatMap((w) => [w.claims, w.sandboxes] as Informer<object>[]);

  return {
    start: () => {
      for (const inf of all()) inf.start();
    },
    stop: async () => {
      await Promise.all(all().map((inf) => inf.stop()));
    },
    overlay(obj) {
      if (obj.metadata.deletionTimestamp || SETTLED_PHASES.has(obj.status?.phase ?? "")) return obj;
      const w = watched.get(obj.metadata.namespace ?? "");
      const held = w && heldSandbox(w, obj, clock.monotonic());
      return held ? asReady(obj, held, clock.now()) : obj;
    },
    onChange(namespace, name, handler) {
      const key = `${namespace}/${name}`;
      const set = listeners.get(key) ?? new Set();
      set.add(handler);
      listeners.set(key, set);
      return () => {
        set.delete(handler);
        if (set.size === 0 && listeners.get(key) === set) listeners.delete(key);
      };
    },
    warm: (namespace, source) => watched.get(namespace)?.sandboxes.byIndex(WARM_INDEX, source) ?? [],
    poolSeen: (namespace, poolName) =>
      (watched.get(namespace)?.sandboxes.byIndex(POOL_INDEX, poolName).length ?? 0) > 0,
    adopted(holder, sandbox) {
      const { namespace = "", name = "", uid } = holder.metadata;
      const w = watched.get(namespace);
      const byClaim = uid !== undefined && sandbox.spec?.claimRef?.uid === uid;
      const bySession = !sandbox.spec?.claimRef && uid !== undefined && controllerOf(sandbox)?.uid === uid;
      if (!w || (!byClaim && !bySession)) return;
      const now = clock.monotonic();
      for (const [key, e] of w.written) if (now - e.at > WRITTEN_TTL_MS) w.written.delete(key);
      w.written.set(name, { ...(byClaim ? { claim: holder as SandboxClaim } : {}), sandbox, at: now });
      notify(namespace, name);
    },
  };
}

/**
 * The adoption this replica wrote for session `name`'s claim (or the session itself), while the sandbox
 * watch still shows that sandbox as it was before (same uid, untaken: no claimRef, no controller but a
 * pool). Anything else the watch
 * shows is newer than the write: it rules.
 */
function writtenFor(w: Watched, name: string, nowMs: number): Written | undefined {
  const e = w.written.get(name);
  if (!e) return undefined;
  const { namespace = "", name: sandboxName = "", uid } = e.sandbox.metadata;
  const seen = w.sandboxes.get(`${namespace}/${sandboxName}`);
  const controller = controllerOf(seen);
  const taken = seen?.spec?.claimRef || (controller && controller.kind !== SANDBOX_POOL.kind);
  if (nowMs - e.at > WRITTEN_TTL_MS || !seen || seen.metadata.uid !== uid || taken) {
    w.written.delete(name);
    return undefined;
  }
  return e;
}

const live = (s: Sandbox) => !s.metadata.deletionTimestamp;

/** The live, Ready sandbox the session holds, found the way the leader's session controller finds it. */
function heldSandbox(w: Watched, session: SessionObject, nowMs: number): Held | undefined {
  const { namespace = "", name = "", uid: sessionUid } = session.metadata;
  const written = writtenFor(w, name, nowMs);
  // The written claim only while the watch has not shown that claim yet; a claim the watch shows rules.
  const claim = w.claims.get(`${namespace}/${name}`) ?? written?.claim;
  if (claim && (!isControlledBy(claim, session) || claim.metadata.deletionTimestamp)) return undefined;
  // Pre-adopted for the session's claim: a pool's sandbox the session controls, no claimRef yet.
  const preAdopted = [
    ...(sessionUid ? w.sandboxes.byIndex(OWNER_INDEX, sessionUid) : []),
    ...(written && !written.claim ? [written.sandbox] : []),
  ].filter(
    (s) =>
      live(s) &&
      !s.spec?.claimRef &&
      s.metadata.labels?.[LABELS.pool] !== undefined &&
      controllerOf(s)?.uid === sessionUid,
  );
  let held: Held | undefined;
  if (claim) {
    const uid = claim.metadata.uid;
    const byClaim = [
      ...w.sandboxes.byIndex(CLAIM_NAME_INDEX, name),
      ...(written?.claim && written.claim.metadata.uid === uid ? [written.sandbox] : []),
    ].filter((s) => uid !== undefined && s.spec?.claimRef?.uid === uid && live(s));
    // The one the claim's status names; before that status, only an unambiguous one (of two, left by a
    // cold create racing an adoption, the claim controller keeps one and releases the other).
    const named = claim.status?.sandboxName;
    const early = reserved(w, session);
    const all = [...byClaim, ...preAdopted, ...(early ? [early] : [])];
    const sandbox = named
      ? byClaim.find((s) => s.metadata.name === named)
      : all.length === 1
        ? all[0]
        : undefined;
    held = sandbox && { sandbox, claim };
  } else if (preAdopted.length === 1 && preAdopted[0]) {
    held = { sandbox: preAdopted[0], preAdopted: true };
  } else if (reserved(w, session)) {
    held = { sandbox: reserved(w, session) as Sandbox, preAdopted: true };
  } else {
    const direct = w.sandboxes.get(`${namespace}/${name}`);
    const mine = direct && isControlledBy(direct, session) && live(direct);
    held = mine ? { sandbox: direct } : undefined;
  }
  const s = held?.sandbox.status;
  return s?.phase === "Ready" && s.podIP && s.podName ? held : undefined;
}

/** The sandbox reserved for this session by its creating replica (reservation.ts), before the leader takes it. */
function reserved(w: Watched, session: SessionObject): Sandbox | undefined {
  const r = reservationOf(session);
  const s = r && w.sandboxes.get(`${session.metadata.namespace ?? ""}/${r.sandbox}`);
  const kind = kindOfSessionId(session.metadata.name ?? "")?.kind ?? "";
  return r && isReservedFor(s, kind, session.metadata.name ?? "", r.token) ? s : undefined;
}

/** Ready, live, untaken and controlled by the pool it is labelled with: what a create may reserve. */
function warmKeys(s: Sandbox): string[] {
  const owner = controllerOf(s);
  const labels = s.metadata?.labels ?? {};
  const pool = labels[LABELS.pool];
  if (owner?.kind !== SANDBOX_POOL.kind || owner.name !== pool || labels[LABELS.claim] !== undefined)
    return [];
  if (s.spec?.claimRef || s.metadata?.deletionTimestamp || s.status?.phase !== "Ready") return [];
  if (!s.status.podIP || !s.status.podName) return [];
  return [`pool:${pool}`, `hash:${s.spec?.templateHash ?? ""}`];
}
