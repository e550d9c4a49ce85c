/**
 * One short-lived JWT per proxied request (RFC 7519, EdDSA over Ed25519 per RFC 8037): `iss` the gateway,
 * `aud` exactly the target pod's identity (`<namespace>/<pod>`), `sid` the session, a fresh `jti` (sandboxes
 * treat it as single-use), `iat` and `exp` at most 60 s ahead. A token is therefore useless on any other
 * pod, for any other session, or a second time.
 *
 * Signing is on the hot path of every request, so the compact JWS is assembled here around node:crypto's
 * synchronous Ed25519 signature (≈25-35 µs) rather than jose's SignJWT, which goes through WebCrypto's
 * async sign and costs ≈80 µs plus several promise hops (a quarter of the gateway's CPU under load).
 * Everything but the signature is mostly precomputed: the header segment once per key, and per target the
 * base64url of the claims that never change (`{"iss":…,"aud":…,"sid":…,`), padded with JSON whitespace to
 * a multiple of 3 bytes so that its encoding is a prefix of the whole payload's. Per request only
 * `"jti":…,"iat":…,"exp":…}` is encoded. Verification everywhere (korokd, agents, tests) is jose's
 * `jwtVerify`.
 */
import { type KeyObject, sign } from "node:crypto";
import type { Clock } from "../../kube/clock";
import { GatewayError } from "../gateway-error";

/** Longest lifetime any token may have (the sandbox contract allows at most 60 s). */
export const MAX_TOKEN_LIFETIME_MS = 60_000;

export interface ActiveSigningKey {
  readonly kid: string;
  /** The Ed25519 private key. */
  readonly key: KeyObject;
  /** `base64url(JSON(protected header))` for this key, computed once. */
  readonly encodedHeader: string;
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
  mint(target: { readonly audience: string; readonly sessionId: string }): string;
}

export function encodedJoseHeader(kid: string): string {
  return Buffer.from(JSON.stringify({ alg: "EdDSA", kid, typ: "JWT" })).toString("base64url");
}

export function createTokenMinter(opts: TokenMinterOptions): TokenMinter {
  if (opts.lifetimeMs < 1000 || opts.lifetimeMs > MAX_TOKEN_LIFETIME_MS) {
    throw new Error(`token lifetime must be between 1s and 60s, got ${opts.lifetimeMs} ms`);
  }
  const lifetimeSeconds = Math.floor(opts.lifetimeMs / 1000);
  const prefixes = createClaimsPrefixes(opts.issuer);
  return {
    mint({ audience, sessionId }) {
      const signing = opts.keys.current();
      if (signing === undefined) throw new GatewayError("not_ready", "signing keys are not loaded yet");
      const iat = Math.floor(opts.clock.now() / 1000);
      const varying = `"jti":"${crypto.randomUUID()}","iat":${iat},"exp":${iat + lifetimeSeconds}}`;
      const signingInput = `${signing.encodedHeader}.${prefixes.get(audience, sessionId)}${base64url(varying)}`;
      // Ed25519 takes no separate digest: the algorithm argument must be null (RFC 8032 PureEdDSA).
      const signature = sign(null, latin1Bytes(signingInput), signing.key).toString("base64url");
      return `${signingInput}.${signature}`;
    },
  };
}

/**
 * One scratch buffer for the per-request encodings: every token would otherwise allocate two short-lived
 * ArrayBuffers, which the garbage collector then has to find and free. Used synchronously only.
 */
const scratch = Buffer.allocUnsafe(8 * 1024);

function base64url(ascii: string): string {
  if (ascii.length > scratch.length) return Buffer.from(ascii, "latin1").toString("base64url");
  const n = scratch.write(ascii, 0, "latin1");
  return scratch.toString("base64url", 0, n);
}

/** A view of `ascii` as bytes, valid until the next call. */
function latin1Bytes(ascii: string): Uint8Array {
  if (ascii.length > scratch.length) return Buffer.from(ascii, "latin1");
  return scratch.subarray(0, scratch.write(ascii, 0, "latin1"));
}

/** Targets whose fixed claims are kept encoded (least recently added leave first). */
const MAX_PREFIXES = 10_000;

/** Per (audience, session): base64url of `{"iss":…,"aud":…,"sid":…,` plus 0-2 spaces (length % 3 = 0). */
function createClaimsPrefixes(issuer: string) {
  const encoded = new Map<string, string>();
  return {
    get(audience: string, sessionId: string): string {
      const key = `${audience}\u0000${sessionId}`;
      let prefix = encoded.get(key);
      if (prefix === undefined) {
        const json = `{"iss":${JSON.stringify(issuer)},"aud":${JSON.stringify(audience)},"sid":${JSON.stringify(sessionId)},`;
        const bytes = Buffer.from(json, "utf8");
        const padded = Buffer.concat([bytes, Buffer.from("  ".slice(0, (3 - (bytes.length % 3)) % 3))]);
        prefix = padded.toString("base64url");
        if (encoded.size >= MAX_PREFIXES) encoded.delete(encoded.keys().next().value as string);
        encoded.set(key, prefix);
      }
      return prefix;
    },
  };
}
