/**
 * Keeps a couple of freshly minted tokens ready for each recently used sandbox, so that at low request
 * rates signing (an Ed25519 signature, ~25-35 µs) happens between requests rather than while one waits.
 * Each token is still used for exactly one request; a pooled token is at most `maxAgeMs` old when used
 * (its `exp` stays ≤ 60 s after its `iat`), and that age is far below how long a superseded signing key is
 * kept, so a rotation never strands a pooled token.
 *
 * Refills run on a timer, not `setImmediate`: under load an immediate refill lands between the event
 * loop's batches of requests and costs throughput, while a timer refill mints at most `perTarget` tokens
 * per target per tick and, at saturation, nearly every token is minted inline anyway — the pool never adds
 * signing work, it only moves it into idle time when there is some.
 */
import type { TokenMinter } from "./token-minter";

export interface TokenTarget {
  readonly audience: string;
  readonly sessionId: string;
}

export interface TokenPoolOptions {
  readonly minter: TokenMinter;
  /** Tokens kept ready per target. */
  readonly perTarget: number;
  readonly maxAgeMs: number;
  /** Targets remembered at most (least recently used are dropped). */
  readonly maxTargets: number;
  readonly now: () => number;
  /** Runs the refill later (default: a 0 ms timer that does not keep the process alive). */
  readonly schedule?: (refill: () => void) => void;
}

function onTimer(refill: () => void): void {
  setTimeout(refill, 0).unref();
}

interface Ready {
  readonly token: string;
  readonly at: number;
}

export function createTokenPool(opts: TokenPoolOptions): TokenMinter {
  const ready = new Map<string, { readonly target: TokenTarget; readonly tokens: Ready[] }>();
  const refills = new Set<string>();
  const schedule = opts.schedule ?? onTimer;
  let scheduled = false;

  function refill(): void {
    scheduled = false;
    for (const key of refills) {
      refills.delete(key);
      const entry = ready.get(key);
      if (entry === undefined) continue;
      while (entry.tokens.length < opts.perTarget) {
        entry.tokens.push({ token: opts.minter.mint(entry.target), at: opts.now() });
      }
    }
  }

  return {
    mint(target) {
      const key = `${target.audience}\u0000${target.sessionId}`;
      let entry = ready.get(key);
      if (entry === undefined) {
        if (ready.size >= opts.maxTargets) ready.delete(ready.keys().next().value as string);
        entry = { target, tokens: [] };
      }
      // Re-inserting keeps the map in least-recently-used order.
      ready.delete(key);
      ready.set(key, entry);
      // Tokens are pushed in minting order: drop expired ones from the front, use the newest.
      const oldest = opts.now() - opts.maxAgeMs;
      const tokens = entry.tokens;
      while (tokens.length > 0 && (tokens[0] as Ready).at <= oldest) tokens.shift();
      const token = tokens.pop()?.token ?? opts.minter.mint(target);
      refills.add(key);
      if (!scheduled) {
        scheduled = true;
        schedule(refill);
      }
      return token;
    },
  };
}
