/**
 * The signature check of a compact JWS signed with EdDSA over Ed25519 (RFC 7515, RFC 8037), and nothing
 * else: the one shape of token korokd accepts.
 *
 * It is a synchronous node:crypto call on the request's own thread. jose verifies through WebCrypto,
 * which Bun runs on its thread pool: per request that was ~200 µs of pool CPU plus two thread hand-offs,
 * about half of what korokd spent on a whole in-context execution.
 *
 * The signature covers the header and payload exactly as sent, so only that text is ever trusted;
 * anything a lenient decoder could read differently fails the signature. Headers this code does not
 * understand are refused rather than ignored: `crit` (RFC 7515 §4.1.11) and `b64` (RFC 7797).
 */
import { type KeyObject, verify } from "node:crypto";

/** Ed25519 public keys by kid. */
export type VerificationKeys = ReadonlyMap<string, KeyObject>;

export interface JwsHeader {
  readonly alg: "EdDSA";
  readonly kid: string;
}

/** Why a token failed; the caller turns it into one generic answer. */
export class JwsError extends Error {}

const SEGMENT = /^[A-Za-z0-9_-]+$/;
const ED25519_SIGNATURE_BYTES = 64;

/** The protected header, if it names EdDSA and a kid; throws JwsError otherwise. Checks no signature. */
export function readHeader(token: string): JwsHeader {
  const dot = token.indexOf(".");
  const header = decodeObject(dot < 0 ? "" : token.slice(0, dot), "header");
  const { alg, kid } = header;
  if (alg !== "EdDSA" || typeof kid !== "string" || kid === "")
    throw new JwsError("not an EdDSA token with a kid");
  if ("crit" in header || "b64" in header) throw new JwsError("unsupported header parameters");
  return { alg, kid };
}

/**
 * The payload of `token` once its signature checks out under the key its kid names; throws JwsError.
 * `header` is `readHeader(token)`, read once by the caller.
 */
export function verifiedPayload(
  token: string,
  header: JwsHeader,
  keys: VerificationKeys,
): Record<string, unknown> {
  const { kid } = header;
  const parts = token.split(".");
  if (parts.length !== 3) throw new JwsError("not a compact JWS");
  const [encodedHeader, payload, signature] = parts as [string, string, string];
  if (!SEGMENT.test(payload) || !SEGMENT.test(signature)) throw new JwsError("not base64url");
  const key = keys.get(kid);
  if (key === undefined) throw new JwsError("unknown kid");
  const bytes = Buffer.from(signature, "base64url");
  if (bytes.length !== ED25519_SIGNATURE_BYTES) throw new JwsError("not an Ed25519 signature");
  if (!verify(null, Buffer.from(`${encodedHeader}.${payload}`, "latin1"), key, bytes)) {
    throw new JwsError("bad signature");
  }
  return decodeObject(payload, "payload");
}

function decodeObject(segment: string, what: string): Record<string, unknown> {
  if (!SEGMENT.test(segment)) throw new JwsError(`${what} is not base64url`);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
  } catch (err) {
    throw new JwsError(`${what} is not JSON`, { cause: err });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new JwsError(`${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}
