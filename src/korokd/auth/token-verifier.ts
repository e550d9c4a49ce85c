/**
 * Verifies the gateway's per-request JWT. The order matters: the signature is checked before any claim,
 * so nothing about audience or replay can be probed without a genuine token, and a jti is recorded only
 * when every other check passed. Every failure message is generic; none says which keys exist.
 */
import { decodeProtectedHeader, type JWTPayload, errors as joseErrors, jwtVerify } from "jose";
import type { Clock } from "../clock";
import { KorokdError } from "../korokd-error";
import type { JwksSource } from "./jwks-file";
import type { ReplayCache } from "./replay-cache";

export interface TokenVerifierOptions {
  readonly jwks: Pick<JwksSource, "current">;
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
      checkHeader(token);
      const keys = options.jwks.current();
      if (keys === undefined) throw new KorokdError("not_ready", "signing keys are not loaded yet");
      const payload = await verifySignatureAndTimes(token, keys, options);
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
function checkHeader(token: string): void {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch (err) {
    throw new KorokdError("token_invalid", "the bearer token is not valid", { cause: err });
  }
  if (header.alg !== "EdDSA" || typeof header.kid !== "string" || header.kid === "") throw invalid();
}

async function verifySignatureAndTimes(
  token: string,
  keys: NonNullable<ReturnType<JwksSource["current"]>>,
  options: TokenVerifierOptions,
): Promise<JWTPayload> {
  try {
    const { payload } = await jwtVerify(token, keys, {
      algorithms: ["EdDSA"],
      issuer: options.issuer,
      requiredClaims: ["exp", "jti", "sid", "aud"],
      clockTolerance: Math.ceil(options.clockSkewMs / 1000),
      currentDate: new Date(options.clock.now()),
    });
    return payload;
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) {
      throw new KorokdError("token_expired", "the bearer token has expired", { cause: err });
    }
    throw new KorokdError("token_invalid", "the bearer token is not valid", { cause: err });
  }
}

function checkClaims(payload: JWTPayload, options: TokenVerifierOptions): VerifiedToken {
  const { aud, exp, iat, jti, sid } = payload;
  const now = options.clock.now();
  // A token naming several audiences would be valid on each of them; require exactly this pod.
  const audiences = typeof aud === "string" ? [aud] : (aud ?? []);
  if (audiences.length !== 1 || audiences[0] !== options.audience) {
    throw new KorokdError("token_wrong_audience", "the bearer token was issued for another sandbox");
  }
  if (typeof jti !== "string" || jti === "" || jti.length > 256) throw invalid();
  if (typeof sid !== "string" || sid === "") throw invalid();
  const expiresAtMs = (exp as number) * 1000;
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
