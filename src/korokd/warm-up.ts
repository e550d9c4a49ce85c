/**
 * Sends requests through every path a real one takes before korokd reports ready, so a pool pod's
 * first claim is served as fast as its later ones. Unwarmed, that first request paid for Bun's first
 * HTTP request and body parse, the first Ed25519 verification and claim checks, the first hand-over to a
 * pre-started interpreter and the first output pumps: tens of milliseconds on the path every new
 * session waits for.
 *
 * Nothing of it is on the record. The token is signed by a throwaway key that only this function ever
 * holds, and checked by the same verifier code with its own key set and replay cache: the real key set
 * never trusts that key and the real replay cache never sees a jti. Runs go to a second server on a
 * loopback port serving the same app with that verifier, closed afterwards; the real server only gets a
 * request without a token, which it refuses. The run executes
 * `pass` through the real executor, so the interpreter it used is replaced by a fresh pre-started one,
 * as after any run; the program goes over stdin and leaves no file, and no context is created.
 */

import { createPublicKey } from "node:crypto";
import type { Hono } from "hono";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import type { Logger } from "../log/logger";
import { createReplayCache } from "./auth/replay-cache";
import { createTokenVerifier, type TokenVerifier } from "./auth/token-verifier";
import type { Clock } from "./clock";

export interface WarmUpOptions {
  /** Builds korokd's app around another verifier; everything else is the real one. */
  readonly appWith: (verifier: TokenVerifier) => Hono;
  /**
   * Korokd's own server: a request without a token goes there, so that app instance builds its router
   * and runs its auth check once too. It is refused before anything else happens.
   */
  readonly url: string;
  /** Languages to run once (python, bash, sh), each in a pre-started interpreter the pool then replaces. */
  readonly languages: readonly string[];
  readonly issuer: string;
  readonly audience: string;
  readonly clock: Clock;
  /** Resolves once the interpreters started to replace the ones the warm-up used have booted. */
  readonly settle: () => Promise<void>;
  /** Aborted when korokd stops: the warm-up gives up. */
  readonly signal: AbortSignal;
  readonly log: Logger;
}

const WARM_KID = "korokd-warm-up";
/** What a warm-up run may take at most; a slow machine gets a warm-up that ends, not a stuck readiness. */
const RUN_TIMEOUT_MS = 5000;
/** A program that does nothing and writes nothing, per language korokd may warm. */
const NO_OP: Readonly<Record<string, string>> = { python: "pass", bash: ":", sh: ":" };

/**
 * Resolves once every path was taken once: true when all went through, false (and a warning in the log)
 * when something failed. Never rejects: readiness must follow either way.
 */
export async function warmUp(options: WarmUpOptions): Promise<boolean> {
  const started = performance.now();
  try {
    const signer = await throwawaySigner(options);
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: options.appWith(signer.verifier).fetch,
    });
    try {
      const url = `http://127.0.0.1:${server.port}`;
      await execute(options.url, undefined, { language: "python", code: "" }, 401, options.signal);
      for (const language of options.languages) {
        const body = { language, code: NO_OP[language] ?? "", timeout_ms: RUN_TIMEOUT_MS };
        await execute(url, await signer.mint(), body, 200, options.signal);
      }
    } finally {
      await server.stop(true);
    }
    // A claim right after ready should find a booted interpreter, as one after a long wait does.
    await options.settle();
    options.log.info("warmed up", {
      ms: Math.round(performance.now() - started),
      languages: options.languages,
    });
    return true;
  } catch (err) {
    options.log.warn("warm-up failed; the first request may be slower", { error: String(err) });
    return false;
  }
}

interface Signer {
  readonly verifier: TokenVerifier;
  mint(): Promise<string>;
}

/** A fresh Ed25519 key, trusted by a verifier of its own only, and a way to sign tokens for it. */
async function throwawaySigner(options: WarmUpOptions): Promise<Signer> {
  const { publicKey, privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
  const keys = new Map([[WARM_KID, createPublicKey({ key: await exportJWK(publicKey), format: "jwk" })]]);
  const verifier = createTokenVerifier({
    jwks: { current: () => keys },
    replay: createReplayCache({ clock: options.clock, capacity: 16 }),
    clock: options.clock,
    issuer: options.issuer,
    audience: options.audience,
    maxLifetimeMs: 60_000,
    clockSkewMs: 5000,
  });
  const mint = async () => {
    const now = Math.floor(options.clock.now() / 1000);
    return await new SignJWT({ sid: "warm-up", jti: crypto.randomUUID() })
      .setProtectedHeader({ alg: "EdDSA", kid: WARM_KID })
      .setIssuer(options.issuer)
      .setAudience(options.audience)
      .setIssuedAt(now)
      .setExpirationTime(now + 30)
      .sign(privateKey);
  };
  return { verifier, mint };
}

async function execute(
  url: string,
  token: string | undefined,
  body: Record<string, unknown>,
  expected: number,
  signal: AbortSignal,
): Promise<void> {
  const response = await fetch(`${url}/api/execute`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
    signal: AbortSignal.any([signal, AbortSignal.timeout(RUN_TIMEOUT_MS + 2000)]),
  });
  const answer = await response.text();
  const ran = expected !== 200 || (JSON.parse(answer) as { exit_code?: unknown }).exit_code === 0;
  if (response.status !== expected || !ran) {
    throw new Error(`warm-up run answered ${response.status}, expected ${expected}: ${answer}`);
  }
}
