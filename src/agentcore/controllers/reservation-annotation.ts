/**
 * How a reservation (reservation.ts) is written down: on the sandbox, the session it is for and when; on the
 * session, the sandbox and the version its handler read. A leaf module, so the cache indexes and every
 * taker of warm sandboxes can read reservations without depending on the leader's side of them.
 */
import { GROUP } from "../../api/group";

export const RESERVATION = {
  /** On a Sandbox: `<session kind>/<session name>/<token>`. */
  reservedFor: `${GROUP}/reserved-for`,
  /** On a Sandbox: when it was reserved (RFC 3339, the reserving replica's clock). */
  reservedAt: `${GROUP}/reserved-at`,
  /** On a session: `<sandbox name>/<resourceVersion as read>/<token>`. */
  reservation: `${GROUP}/reservation`,
} as const;

/**
 * How long an unowned reservation is left alone before its session is checked: covers the session POST
 * still in flight (the handler answers from a reservation only within its answer window, reservation.ts).
 */
export const RESERVATION_GRACE_MS = 20_000;

export interface SessionReservation {
  readonly sandbox: string;
  readonly resourceVersion: string;
  readonly token: string;
}

export interface Annotated {
  readonly kind?: string | undefined;
  readonly metadata: {
    readonly name?: string | undefined;
    readonly annotations?: Readonly<Record<string, string>> | undefined;
  };
}

export function reservationOf(session: Annotated | undefined): SessionReservation | undefined {
  const value = session?.metadata.annotations?.[RESERVATION.reservation];
  const [sandbox, resourceVersion, token, ...rest] = (value ?? "").split("/");
  if (!sandbox || !resourceVersion || !token || rest.length > 0) return undefined;
  return { sandbox, resourceVersion, token };
}

export function reservationAnnotation(r: SessionReservation): Record<string, string> {
  return { [RESERVATION.reservation]: `${r.sandbox}/${r.resourceVersion}/${r.token}` };
}
