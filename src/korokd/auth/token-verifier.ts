/**
 * Verifies the gateway's per-request JWT. The order matters: the signature is checked before any claim,
 * so nothing about audience or replay can be probed without a genuine token, and a jti is recorded only
 * when every other check passed. Every failure message is generic; none says which keys exist.
 */
import type { Clock } from "../clock";
import { KorokdError } from "../korokd-error";
import { type JwsHeader, readHeader, type VerificationKeys, verifiedPayload } from "./ed25519-jws";
import type { ReplayCache } from "./replay-cache";

export interface TokenVerifierOptions {
  /** The gateway's public keys; undefined while none is loaded. */
  readonly jwks: { current(): VerificationKeys | undefined };
  readonly replay: ReplayCache;
  readonly clock: Clock;
  /** Expected `iss`. */
  readonly issuer: string;
  /** This pod's identity, `<namespace>/<pod name>`; `aud` must be exactly this. */
  readonly audience: string;
  /** Longest accepted distance between now and `exp`. */
  readonly maxLifetimeMs: number;
  /** Tolerance for clock differences between gateway and pod (exp, nbf, iat). */
  readonly clockSkewMs: number;
}

export interface VerifiedToken {
  readonly sessionId: string;
  readonly jti: string;
  readonly expiresAtMs: number;
}

export interface TokenVerifier {
  verify(authorization: string | undefined): Promise<VerifiedToken>;
}

const MAX_TOKEN_LENGTH = 8192;
const BEARER = /^Bearer[ \t]+([A-Za-z0-9._~+/=-]+)[ \t]*$/i;

const invalid = () => new KorokdError("token_invalid", "the bearer token is not valid");

export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  return {
    async verify(authorization) {
      const token = bearerToken(authorization);
      const header = checkHeader(token);
      const keys = options.jwks.current();
      if (keys === undefined) throw new KorokdError("not_ready", "signing keys are not loaded yet");
      const payload = verifySignature(token, header, keys);
      checkTimes(payload, options);
      const verified = checkClaims(payload, options);
      recordJti(verified, options);
      return verified;
    },
  };
}

function bearerToken(authorization: string | undefined): string {
  if (authorization === undefined || authorization.trim() === "") {
    throw new KorokdError("token_missing", "an Authorization: Bearer token is required");
  }
  const match = BEARER.exec(authorization);
  if (match === null) throw new KorokdError("token_missing", "an Authorization: Bearer token is required");
  const token = match[1] as string;
  if (token.length > MAX_TOKEN_LENGTH) throw invalid();
  return token;
}

/** Only EdDSA with a kid gets as far as a key lookup; `none`, HMAC and friends stop here. */
function checkHeader(token: string): JwsHeader {
  try {
    return readHeader(token);
  } catch (err) {
    throw new KorokdError("token_invalid", "the bearer token is not valid", { cause: err });
  }
}

function verifySignature(token: string, header: JwsHeader, keys: VerificationKeys): Record<string, unknown> {
  try {
    return verifiedPayload(token, header, keys);
  } catch (err) {
    throw new KorokdError("token_invalid", "the bearer token is not valid", { cause: err });
  }
}

/** Required claims present, issuer, and the registered time claims (RFC 7519 §4.1) within the skew. */
function checkTimes(payload: Record<string, unknown>, options: TokenVerifierOptions): void {
  const { exp, nbf, iat, iss } = payload;
  if (iss !== options.issuer || ["jti", "sid", "aud"].some((claim) => payload[claim] === undefined)) {
    throw invalid();
  }
  if (!isNumericDate(exp) || (nbf !== undefined && !isNumericDate(nbf))) throw invalid();
  if (iat !== undefined && !isNumericDate(iat)) throw invalid();
  const now = options.clock.now();
  if (exp * 1000 <= now - options.clockSkewMs) {
    throw new KorokdError("token_expired", "the bearer token has expired");
  }
  if (typeof nbf === "number" && nbf * 1000 > now + options.clockSkewMs) throw invalid();
}

const isNumericDate = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

function checkClaims(payload: Record<string, unknown>, options: TokenVerifierOptions): VerifiedToken {
  const { aud, exp, iat, jti, sid } = payload;
  const now = options.clock.now();
  // A token naming several audiences would be valid on each of them; require exactly this pod.
  const audiences: unknown[] = typeof aud === "string" ? [aud] : Array.isArray(aud) ? aud : [];
  if (audiences.length !== 1 || audiences[0] !== options.audience) {
    throw new KorokdError("token_wrong_audience", "the bearer token was issued for another sandbox");
  }
  if (typeof jti !== "string" || jti === "" || jti.length > 256) throw invalid();
  if (typeof sid !== "string" || sid === "") throw invalid();
  const expiresAtMs = (exp as number) * 1000; // a number: checkTimes ran first
  if (expiresAtMs - now > options.maxLifetimeMs + options.clockSkewMs) throw invalid();
  if (typeof iat === "number" && iat * 1000 > now + options.clockSkewMs) throw invalid();
  return { sessionId: sid, jti, expiresAtMs };
}

function recordJti(token: VerifiedToken, options: TokenVerifierOptions): void {
  // Remember the jti for as long as the token could still pass the exp check, skew included.
  const verdict = options.replay.claim(token.jti, token.expiresAtMs + options.clockSkewMs);
  if (verdict === "replayed") throw new KorokdError("token_replayed", "the bearer token was already used");
  if (verdict === "full") {
    throw new KorokdError("overloaded", "too many recent requests, retry shortly", { retryAfterSeconds: 1 });
  }
}
