/**
 * The RPC side of a reservation (controllers/reservation.ts): a replica creating a pool-mode
 * CodeInterpreter picks a warm sandbox from its own watch and reserves it for the session's name with one
 * conditional PUT, sent alongside the session's POST. Both accepted → the create is answered from the two
 * write results at once; the leader then makes that binding permanent off the answer's path.
 *
 * Any failure of the PUT (Conflict: another replica, claim or leader took it first; NotFound; a timeout)
 * needs nothing undone: the session still names its reservation, and the leader reads the sandbox from the
 * apiserver to learn whether the reservation exists (then takes that sandbox) or can never land (then
 * provisions as if there had been none). The create then waits for Ready as it always did.
 *
 * Only CodeInterpreters, whose pool follows from their spec and agentcore's settings alone; an AgentSession's
 * pool comes from its runtime, which this replica does not watch.
 */
import { randomBytes } from "node:crypto";
import { CODE_INTERPRETER } from "../../api/code-interpreter";
import { SANDBOXES } from "../../api/resource-types";
import type { Sandbox } from "../../api/sandbox";
import type { Clock } from "../../kube/clock";
import type { KubeClient } from "../../kube/kube-client";
import { defaultCodeInterpreterTemplate } from "../controllers/code-interpreter";
import { createOutdatedVersions } from "../controllers/outdated-versions";
import { cachedTemplateHash } from "../controllers/pool-template";
import { RESERVATION_ANSWER_WINDOW_MS, reservedBy } from "../controllers/reservation";
import { reservationAnnotation } from "../controllers/reservation-annotation";
import { rfc3339 } from "../render/conditions";
import type { SessionObject } from "./session-kinds";

export interface WarmSandboxes {
  warm(namespace: string, source: string): Sandbox[];
  poolSeen(namespace: string, poolName: string): boolean;
}

export interface WarmReserverDeps {
  readonly client: KubeClient;
  readonly sandboxes: WarmSandboxes;
  /** agentcore's `--code-interpreter-pool` and `--code-interpreter-image`, as the controllers use them. */
  readonly codeInterpreterPool: string;
  readonly codeInterpreterImage: string;
  readonly clock: Clock;
  /** A pick among the candidates, in [0, 1). */
  readonly random?: () => number;
  readonly tokenBytes?: (n: number) => Uint8Array;
  readonly log: (msg: string, fields?: Record<string, unknown>) => void;
}

/** A candidate picked for a session about to be created: its annotation goes on the session. */
export interface Reservation {
  readonly sandbox: Sandbox;
  readonly token: string;
  readonly annotations: Record<string, string>;
}

/** A reservation the apiserver accepted, and when its PUT was sent (monotonic ms). */
export interface Reserved {
  readonly sandbox: Sandbox;
  readonly sentAt: number;
}

export interface WarmReserver {
  /** A warm candidate for this (validated) session, or undefined: then the create goes as it always did. */
  pick(session: SessionObject): Reservation | undefined;
  /** The reserving PUT; undefined if it was not accepted (never rejects: see the header). */
  reserve(r: Reservation, session: SessionObject, signal: AbortSignal): Promise<Reserved | undefined>;
  /** The reserved sandbox, if the create may answer from it now: Ready, and reserved recently enough. */
  answerable(r: Reserved | undefined): Sandbox | undefined;
  /** Its session was never created: delete the reserved sandbox (the sandbox controller would, later). */
  release(r: Reserved | undefined): Promise<void>;
  readonly clock: Clock;
}

export function createWarmReserver(deps: WarmReserverDeps): WarmReserver {
  const api = deps.client.resource(SANDBOXES);
  const random = deps.random ?? Math.random;
  const tokenBytes = deps.tokenBytes ?? randomBytes;
  const defaultHash = cachedTemplateHash(defaultCodeInterpreterTemplate(deps.codeInterpreterImage));
  /**
   * Versions this replica picked: reserved by it now (or about to be), or refused because someone else
   * changed them first. Its later creates pick others until its watch shows the sandbox's next version.
   */
  const picked = createOutdatedVersions(deps.clock);

  /** Where the controllers would take this session's sandbox from, as a `warm` index key. */
  function sourceOf(session: SessionObject): string | undefined {
    if (session.kind !== CODE_INTERPRETER.kind || !("provisioning" in session.spec)) return undefined;
    const { mode, poolRef } = session.spec.provisioning;
    if (mode === "Direct" || session.spec.sandboxTemplate) return undefined;
    const ns = session.metadata.namespace ?? "";
    const pool =
      poolRef?.name ??
      (deps.sandboxes.poolSeen(ns, deps.codeInterpreterPool) ? deps.codeInterpreterPool : undefined);
    return pool ? `pool:${pool}` : `hash:${defaultHash}`;
  }

  return {
    clock: deps.clock,
    pick(session) {
      const source = sourceOf(session);
      const ns = session.metadata.namespace ?? "";
      if (!source) return undefined;
      const free = deps.sandboxes
        .warm(ns, source)
        .filter((s) => !picked.isOutdated(`${ns}/${s.metadata.name}`, s.metadata.resourceVersion));
      // Random, so that replicas picking from the same watch at the same moment rarely collide.
      const sandbox = free[Math.floor(random() * free.length)];
      const { name = "", resourceVersion = "" } = sandbox?.metadata ?? {};
      if (!sandbox || !name || !resourceVersion) return undefined;
      picked.mark(`${ns}/${name}`, resourceVersion);
      const token = Buffer.from(tokenBytes(8)).toString("hex");
      return {
        sandbox,
        token,
        annotations: reservationAnnotation({ sandbox: name, resourceVersion, token }),
      };
    },
    async reserve(r, session, signal) {
      const { namespace = "", name = "" } = r.sandbox.metadata;
      const sentAt = deps.clock.monotonic();
      const next = reservedBy(
        r.sandbox,
        session.kind,
        session.metadata.name ?? "",
        r.token,
        rfc3339(deps.clock.now()),
      );
      try {
        return { sandbox: await api.update(next, { namespace, signal, priority: "interactive" }), sentAt };
      } catch (err) {
        deps.log("reservation not accepted; the create waits for the leader", {
          sandbox: name,
          err: String(err),
        });
        return undefined;
      }
    },
    answerable(r) {
      if (!r || deps.clock.monotonic() - r.sentAt > RESERVATION_ANSWER_WINDOW_MS) return undefined;
      const s = r.sandbox.status;
      return s?.phase === "Ready" && s.podIP && s.podName ? r.sandbox : undefined;
    },
    async release(r) {
      if (!r) return;
      const { namespace = "", name = "", uid, resourceVersion } = r.sandbox.metadata;
      try {
        await api.delete(name, {
          namespace,
          propagationPolicy: "Background",
          preconditions: { ...(uid ? { uid } : {}), ...(resourceVersion ? { resourceVersion } : {}) },
          signal: AbortSignal.timeout(RESERVATION_ANSWER_WINDOW_MS),
        });
      } catch (err) {
        deps.log("release of a reservation failed; the sandbox controller removes it", {
          sandbox: name,
          err: String(err),
        });
      }
    },
  };
}
