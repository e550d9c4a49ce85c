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
 * Only Ready is ever inferred, and only over a status that says neither Ready, Failed nor Terminating: a
 * failure and everything after Ready come from the session's own status, written by the leader.
 *
 * The leader knows of its own adoptions a watch delivery before its watch shows them: `adopted` takes the
 * claim and the sandbox as the conditional write returned them, and they stand in for what the watches
 * show until the watch shows that sandbox claimed (or gone, or replaced). Same objects, same rules; only
 * earlier.
 */
import { SANDBOX_CLAIMS, SANDBOXES } from "../../api/resource-types";
import type { Sandbox } from "../../api/sandbox";
import type { SandboxClaim } from "../../api/sandbox-claim";
import { durationToMs } from "../../api/schema/duration";
import { DEFAULT_MAX_SESSION_DURATION } from "../../api/session";
import type { Clock } from "../../kube/clock";
import { createInformer, type Informer } from "../../kube/informer";
import type { KubeClient } from "../../kube/kube-client";
import { isControlledBy } from "../controllers/owner-refs";
import { rfc3339 } from "../render/conditions";
import type { SessionObject } from "./session-kinds";

export interface SessionSandboxes {
  start(): void;
  stop(): Promise<void>;
  /** `obj` as it will read once the leader mirrors its Ready sandbox; `obj` itself otherwise. */
  overlay(obj: SessionObject): SessionObject;
  /** Calls `handler` whenever the claim or sandbox of session `namespace/name` may have changed. */
  onChange(namespace: string, name: string, handler: () => void): () => void;
  /** This replica's write bound `sandbox` to `claim` (objects as the apiserver returned them). */
  adopted(claim: SandboxClaim, sandbox: Sandbox): void;
}

/** Sandboxes by the claim holding them (`spec.claimRef.name`), which is named like its session. */
const CLAIM_NAME_INDEX = "claim-name";
const SETTLED_PHASES: ReadonlySet<string> = new Set(["Ready", "Failed", "Terminating"]);
const DEFAULT_PORT = 1883;
/** A written adoption the watch has not confirmed stands in for it at most this long. */
const WRITTEN_TTL_MS = 30_000;

interface Watched {
  readonly claims: Informer<SandboxClaim>;
  readonly sandboxes: Informer<Sandbox>;
  /** Adoptions this replica wrote, by claim name, until the sandbox watch shows them. */
  readonly written: Map<string, Written>;
}

interface Written {
  readonly claim: SandboxClaim;
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
      indexers: { [CLAIM_NAME_INDEX]: (s) => (s.spec?.claimRef ? [s.spec.claimRef.name] : []) },
    });
    const claimChanged = (c: SandboxClaim) => notify(c.metadata?.namespace, c.metadata?.name);
    claims.addHandlers({ onAdd: claimChanged, onUpdate: (_o, c) => claimChanged(c), onDelete: claimChanged });
    // A sandbox concerns the session its claim is named after, or (Direct) the one it is named after.
    const sandboxChanged = (s: Sandbox) =>
      notify(s.metadata?.namespace, s.spec?.claimRef?.name ?? s.metadata?.name);
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
    adopted(claim, sandbox) {
      const { namespace = "", name = "" } = claim.metadata;
      const w = watched.get(namespace);
      if (!w || sandbox.spec?.claimRef?.uid !== claim.metadata.uid) return;
      const now = clock.monotonic();
      for (const [key, e] of w.written) if (now - e.at > WRITTEN_TTL_MS) w.written.delete(key);
      w.written.set(name, { claim, sandbox, at: now });
      notify(namespace, name);
    },
  };
}

interface Held {
  readonly sandbox: Sandbox;
  readonly claim?: SandboxClaim;
}

/**
 * The adoption this replica wrote for claim `name`, while the sandbox watch still shows that sandbox as it
 * was before (same uid, unclaimed). Anything else the watch shows is newer than the write: it rules.
 */
function writtenFor(w: Watched, name: string, nowMs: number): Written | undefined {
  const e = w.written.get(name);
  if (!e) return undefined;
  const { namespace = "", name: sandboxName = "", uid } = e.sandbox.metadata;
  const seen = w.sandboxes.get(`${namespace}/${sandboxName}`);
  if (nowMs - e.at > WRITTEN_TTL_MS || !seen || seen.metadata.uid !== uid || seen.spec?.claimRef) {
    w.written.delete(name);
    return undefined;
  }
  return e;
}

/** The live, Ready sandbox the session holds, found the way the leader's session controller finds it. */
function heldSandbox(w: Watched, session: SessionObject, nowMs: number): Held | undefined {
  const { namespace = "", name = "" } = session.metadata;
  const written = writtenFor(w, name, nowMs);
  const cachedClaim = w.claims.get(`${namespace}/${name}`);
  // The written claim only while the watch has not shown that claim yet; a claim the watch shows rules.
  const claim = cachedClaim ?? written?.claim;
  let held: Held | undefined;
  if (claim) {
    if (!isControlledBy(claim, session) || claim.metadata.deletionTimestamp) return undefined;
    const uid = claim.metadata.uid;
    const live = [
      ...w.sandboxes.byIndex(CLAIM_NAME_INDEX, name),
      ...(written && written.claim.metadata.uid === uid ? [written.sandbox] : []),
    ].filter((s) => uid !== undefined && s.spec?.claimRef?.uid === uid && !s.metadata.deletionTimestamp);
    // The one the claim's status names; before that status, only an unambiguous one (of two, left by a
    // cold create racing an adoption, the claim controller keeps one and releases the other).
    const named = claim.status?.sandboxName;
    const sandbox = named
      ? live.find((s) => s.metadata.name === named)
      : live.length === 1
        ? live[0]
        : undefined;
    held = sandbox && { sandbox, claim };
  } else {
    const direct = w.sandboxes.get(`${namespace}/${name}`);
    const mine = direct && isControlledBy(direct, session) && !direct.metadata.deletionTimestamp;
    held = mine ? { sandbox: direct } : undefined;
  }
  const s = held?.sandbox.status;
  return s?.phase === "Ready" && s.podIP && s.podName ? held : undefined;
}

function asReady(session: SessionObject, held: Held, nowMs: number): SessionObject {
  const s = held.sandbox.status ?? {};
  const sandboxName = held.sandbox.metadata.name ?? "";
  const now = rfc3339(nowMs);
  const created = Date.parse(session.metadata.creationTimestamp ?? "");
  const lifetime = durationToMs(session.spec.maxSessionDuration ?? DEFAULT_MAX_SESSION_DURATION);
  const others = (session.status?.conditions ?? []).filter((c) => c.type !== "Ready");
  return {
    ...session,
    status: {
      ...session.status,
      phase: "Ready",
      conditions: [
        ...others,
        {
          type: "Ready",
          status: "True",
          reason: "SandboxReady",
          message: `sandbox ${sandboxName} is ready`,
          lastTransitionTime: now,
        },
      ],
      sandboxName,
      ...(held.claim ? { claimName: held.claim.metadata.name ?? "" } : {}),
      podName: s.podName ?? "",
      podIP: s.podIP ?? "",
      port: s.port ?? DEFAULT_PORT,
      startTime: session.status?.startTime ?? now,
      ...(Number.isNaN(created) ? {} : { expiresAt: rfc3339(created + lifetime) }),
    },
  } as SessionObject;
}
