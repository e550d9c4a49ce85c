/**
 * One short-lived JWT per proxied request (jose, EdDSA over Ed25519): `iss` the gateway, `aud` exactly the
 * target pod's identity (`<namespace>/<pod>`), `sid` the session, a fresh `jti` (sandboxes treat it as
 * single-use), `iat` and `exp` at most 60 s ahead. A token is therefore useless on any other pod, for any
 * other session, or a second time.
 */
import { SignJWT } from "jose";
import type { Clock } from "../../kube/clock";
import { GatewayError } from "../gateway-error";

/** Longest lifetime any token may have (the sandbox contract allows at most 60 s). */
export const MAX_TOKEN_LIFETIME_MS = 60_000;

export interface ActiveSigningKey {
  readonly kid: string;
  readonly key: CryptoKey;
}

export interface SigningKeySource {
  /** The key to sign with now; undefined until the key set is loaded. */
  current(): ActiveSigningKey | undefined;
}

export interface TokenMinterOptions {
  readonly keys: SigningKeySource;
  readonly issuer: string;
  readonly lifetimeMs: number;
  readonly clock: Pick<Clock, "now">;
}

export interface TokenMinter {
  mint(target: { readonly audience: string; readonly sessionId: string }): Promise<string>;
}

export function createTokenMinter(opts: TokenMinterOptions): TokenMinter {
  if (opts.lifetimeMs < 1000 || opts.lifetimeMs > MAX_TOKEN_LIFETIME_MS) {
    throw new Error(`token lifetime must be between 1s and 60s, got ${opts.lifetimeMs} ms`);
  }
  const lifetimeSeconds = Math.floor(opts.lifetimeMs / 1000);
  return {
    async mint({ audience, sessionId }) {
      const signing = opts.keys.current();
      if (signing === undefined) throw new GatewayError("not_ready", "signing keys are not loaded yet");
      const iat = Math.floor(opts.clock.now() / 1000);
      return new SignJWT({ sid: sessionId })
        .setProtectedHeader({ alg: "EdDSA", kid: signing.kid, typ: "JWT" })
        .setIssuer(opts.issuer)
        .setAudience(audience)
        .setJti(crypto.randomUUID())
        .setIssuedAt(iat)
        .setExpirationTime(iat + lifetimeSeconds)
        .sign(signing.key);
    },
  };
}
