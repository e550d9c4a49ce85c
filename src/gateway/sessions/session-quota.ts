/**
 * The per-principal limit of concurrent sessions. Counting a principal's sessions is an AgentCore call; on
 * a new session's path it would add a round trip before the creation even starts. So a principal known to
 * be well below the limit is counted while its session is being created, and the count is checked when
 * both are back: over the limit, the new session is deleted again and the request is refused. A principal
 * at or near the limit (or not seen yet) is counted first and nothing is created when there is no room,
 * so a client that keeps asking past its limit never churns sandboxes. Either way every creation is checked
 * against a fresh count; only the order changes. Creations still under way on this replica count too.
 */
import type { Session } from "../../gen/agentland/agentcore/v1/agentcore_pb";
import { GatewayError } from "../gateway-error";

export interface SessionQuotaOptions {
  readonly maxPerPrincipal: number;
  /** The principal's sessions that count against the limit. */
  readonly countable: (principal: string, signal: AbortSignal) => Promise<Session[]>;
  /** Deletes a session created past the limit (best effort; failures are the callee's to log). */
  readonly discard: (principal: string, session: Session) => Promise<void>;
  /** Principals whose last count is remembered at most. */
  readonly maxPrincipals: number;
}

export interface SessionQuota {
  /** Runs `create` when the principal has room for one more session; throws `quota_exceeded` otherwise. */
  admit(principal: string, signal: AbortSignal, create: () => Promise<Session>): Promise<Session>;
  /** A session of the principal was deleted through this replica. */
  released(principal: string): void;
}

export function createSessionQuota(opts: SessionQuotaOptions): SessionQuota {
  const creating = new Map<string, number>();
  /** Sessions each principal had at its last count, plus those created here since. */
  const known = new Map<string, number>();
  const max = opts.maxPerPrincipal;

  function remember(principal: string, count: number): void {
    known.delete(principal);
    if (known.size >= opts.maxPrincipals) known.delete(known.keys().next().value as string);
    known.set(principal, count);
  }

  async function countFirst(
    principal: string,
    pending: number,
    signal: AbortSignal,
    create: () => Promise<Session>,
  ) {
    const count = (await opts.countable(principal, signal)).length;
    remember(principal, count);
    if (count + pending >= max) throw quotaExceeded(max);
    const session = await create();
    remember(principal, count + 1);
    return session;
  }

  async function countAlongside(
    principal: string,
    pending: number,
    signal: AbortSignal,
    create: () => Promise<Session>,
  ) {
    const counting = opts.countable(principal, signal);
    // Settled below, or abandoned when the creation failed: never an unhandled rejection.
    counting.catch(() => undefined);
    const session = await create();
    let others: number;
    try {
      others = (await counting).filter((s) => s.id !== session.id).length;
    } catch (err) {
      void opts.discard(principal, session);
      throw err;
    }
    if (others + pending >= max) {
      remember(principal, others);
      void opts.discard(principal, session);
      throw quotaExceeded(max);
    }
    remember(principal, others + 1);
    return session;
  }

  return {
    async admit(principal, signal, create) {
      const pending = creating.get(principal) ?? 0;
      creating.set(principal, pending + 1);
      try {
        const last = known.get(principal);
        const roomy = last !== undefined && last + pending + 1 < max;
        return roomy
          ? await countAlongside(principal, pending, signal, create)
          : await countFirst(principal, pending, signal, create);
      } finally {
        const left = (creating.get(principal) ?? 1) - 1;
        if (left === 0) creating.delete(principal);
        else creating.set(principal, left);
      }
    },
    released(principal) {
      const last = known.get(principal);
      if (last !== undefined && last > 0) known.set(principal, last - 1);
    },
  };
}

function quotaExceeded(max: number): GatewayError {
  return new GatewayError(
    "quota_exceeded",
    `at most ${max} concurrent sessions per principal; delete one first`,
    { retryAfterSeconds: 5 },
  );
}
