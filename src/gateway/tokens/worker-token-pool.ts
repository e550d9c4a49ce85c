/**
 * Per-request tokens minted ahead of time on a worker thread (`mint-worker.ts`). An Ed25519 signature costs
 * 25-50 µs, the largest single piece of a proxied request; on the request loop it caps how many requests
 * one gateway serves, while a worker signs on the other core. Each token is still used for exactly one
 * request, only while it is at most `maxAgeMs` old (its `exp` stays ≤ 60 s after its `iat`), and only when
 * it was signed with the key that signs right now — after a rotation older tokens are dropped unused.
 *
 * Per target the pool keeps a batch that adapts to the request rate: it starts at two tokens (a target
 * used now and then never waits for a signature), doubles each time requests drained it before the worker
 * answered, and halves when tokens expired unused. A request that finds none signs inline, as the gateway
 * did before, so the worker only ever takes work off the request loop and a failed worker costs speed,
 * never a request.
 */
import type { Logger } from "../../log/logger";
import { describeError } from "../describe-error";
import type { FromMintWorker, ToMintWorker } from "./mint-worker";
import type { SigningKeySource, TokenMinter } from "./token-minter";

export interface WorkerTokenPoolOptions {
  /** Signs inline when no pooled token is ready; also says which key signs now. */
  readonly inline: TokenMinter;
  readonly keys: SigningKeySource;
  readonly issuer: string;
  readonly lifetimeMs: number;
  readonly maxAgeMs: number;
  /** Targets remembered at most (least recently used are dropped). */
  readonly maxTargets: number;
  /** Monotonic milliseconds. */
  readonly now: () => number;
  readonly log: Logger;
}

export interface WorkerTokenPool extends TokenMinter {
  /** Tokens held right now, all targets together. */
  pooled(): number;
  stop(): void;
}

const MIN_BATCH = 2;
const MAX_BATCH = 256;

interface Pooled {
  readonly token: string;
  readonly at: number;
}

interface Entry {
  readonly audience: string;
  readonly sessionId: string;
  /** Oldest first. */
  tokens: Pooled[];
  kid: string;
  batch: number;
  /** When the outstanding request to the worker was made; undefined when none is outstanding. */
  askedAt: number | undefined;
}

export function createWorkerTokenPool(opts: WorkerTokenPoolOptions): WorkerTokenPool {
  const entries = new Map<string, Entry>();
  let worker = startWorker(opts.log);
  let sentKid: string | undefined;
  // Tokens of targets nobody calls any more would otherwise wait for the target to be evicted.
  const sweeper = setInterval(sweep, opts.maxAgeMs);
  sweeper.unref();
  if (worker !== undefined) {
    post({ type: "init", issuer: opts.issuer, lifetimeMs: opts.lifetimeMs });
    worker.onmessage = (event: MessageEvent<FromMintWorker>) => received(event.data);
    worker.onerror = (event) => {
      opts.log.warn("token minting worker failed, signing on the request loop", {
        error: describeError(event.error ?? event.message),
      });
      worker?.terminate();
      worker = undefined;
    };
  }

  function sweep(): void {
    const oldest = opts.now() - opts.maxAgeMs;
    for (const [key, entry] of entries) {
      while (entry.tokens.length > 0 && (entry.tokens[0] as Pooled).at <= oldest) entry.tokens.shift();
      if (entry.tokens.length === 0 && entry.askedAt === undefined) entries.delete(key);
    }
  }

  function post(msg: ToMintWorker): void {
    worker?.postMessage(msg);
  }

  function received(msg: FromMintWorker): void {
    const entry = entries.get(msg.key);
    if (entry === undefined || entry.askedAt === undefined) return;
    // Stamped with when they were asked for: never younger than they really are.
    const at = entry.askedAt;
    entry.askedAt = undefined;
    if (msg.kid !== entry.kid) return;
    for (const token of msg.tokens) entry.tokens.push({ token, at });
  }

  /** Tells the worker about the signing key when it changed; drops the entry's tokens of older keys. */
  function currentKid(): string | undefined {
    const signing = opts.keys.current();
    if (signing === undefined) return undefined;
    if (signing.kid !== sentKid) {
      sentKid = signing.kid;
      post({ type: "key", kid: signing.kid, jwk: signing.key.export({ format: "jwk" }) });
    }
    return signing.kid;
  }

  function entryFor(key: string, audience: string, sessionId: string, kid: string): Entry {
    let entry = entries.get(key);
    if (entry === undefined) {
      if (entries.size >= opts.maxTargets) entries.delete(entries.keys().next().value as string);
      entry = { audience, sessionId, tokens: [], kid, batch: MIN_BATCH, askedAt: undefined };
    }
    // Re-inserting keeps the map in least-recently-used order.
    entries.delete(key);
    entries.set(key, entry);
    if (entry.kid !== kid) {
      entry.kid = kid;
      entry.tokens = [];
    }
    return entry;
  }

  return {
    mint(target) {
      const kid = currentKid();
      // No key yet: the inline minter answers with the gateway's not-ready error.
      if (kid === undefined || worker === undefined) return opts.inline.mint(target);
      const key = `${target.audience}\u0000${target.sessionId}`;
      const entry = entryFor(key, target.audience, target.sessionId, kid);
      const now = opts.now();
      const tokens = entry.tokens;
      let expired = 0;
      while (tokens.length > 0 && (tokens[0] as Pooled).at <= now - opts.maxAgeMs) {
        tokens.shift();
        expired++;
      }
      if (expired > 0) entry.batch = Math.max(MIN_BATCH, entry.batch >> 1);
      // Oldest first: a token is used as early in its life as possible and none ages out at a steady rate.
      const pooled = tokens.shift();
      if (pooled === undefined && entry.askedAt !== undefined)
        entry.batch = Math.min(MAX_BATCH, entry.batch * 2);
      if (entry.askedAt === undefined && tokens.length <= entry.batch >> 1) {
        entry.askedAt = now;
        post({
          type: "mint",
          key,
          audience: target.audience,
          sessionId: target.sessionId,
          count: entry.batch,
        });
      }
      return pooled?.token ?? opts.inline.mint(target);
    },
    pooled() {
      let n = 0;
      for (const entry of entries.values()) n += entry.tokens.length;
      return n;
    },
    stop() {
      clearInterval(sweeper);
      worker?.terminate();
      worker = undefined;
    },
  };
}

/** The minting thread; undefined (inline signing) when this build cannot start it. */
function startWorker(log: Logger): Worker | undefined {
  try {
    const worker = new Worker(workerSpecifier());
    // Never what keeps the process alive.
    worker.unref();
    return worker;
  } catch (err) {
    log.warn("token minting worker unavailable, signing on the request loop", { error: describeError(err) });
    return undefined;
  }
}

/**
 * From source the worker is this directory's `mint-worker.ts`; a compiled executable (`bun run build`, which
 * must list the file as a second entry point) embeds it under its path below `src/`.
 */
function workerSpecifier(): string {
  if (import.meta.url.includes("/$bunfs/")) return "./gateway/tokens/mint-worker.ts";
  return new URL("./mint-worker.ts", import.meta.url).href;
}
