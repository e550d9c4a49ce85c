/**
 * When each signing key is published, used and dropped; pure functions of the stored key set and the
 * time, so every gateway replica reaches the same decision from the same Secret.
 *
 * A key's life: created and published in the JWKS at once → signed with from `activateAt` (creation plus
 * the propagation delay, long enough for every sandbox to see the new JWKS) → superseded when a newer
 * key activates → dropped once every token it signed has expired (superseded time + longest token
 * lifetime + clock skew). Verifiers therefore always know the key of any token still alive: no request
 * fails during rotation.
 */
import type { JWK } from "jose";

export interface StoredKey {
  readonly kid: string;
  /** Ed25519 private key as a JWK (kty OKP, crv Ed25519, x, d). */
  readonly privateJwk: JWK;
  /** Epoch ms. */
  readonly createdAt: number;
  /** Epoch ms from which replicas sign with this key. */
  readonly activateAt: number;
}

export interface KeySetState {
  readonly keys: readonly StoredKey[];
  /** The last on-demand rotation request (Secret annotation value) already acted on. */
  readonly rotationHandled?: string;
}

export interface KeyPolicy {
  readonly rotationIntervalMs: number;
  readonly propagationDelayMs: number;
  /** Longest lifetime of a token (exp − iat). */
  readonly tokenLifetimeMs: number;
  /** Tolerated clock difference between gateway replicas and sandboxes. */
  readonly clockSkewMs: number;
}

export interface KeyPlan {
  /** Add a new key activating at this time (epoch ms). */
  readonly addKeyActivatingAt?: number;
  /** Kids to drop. */
  readonly drop: readonly string[];
}

/** The newest key already active; before any is active (fresh first key), the oldest one. */
export function signingKeyAt(state: KeySetState, now: number): StoredKey | undefined {
  let best: StoredKey | undefined;
  for (const key of state.keys) {
    if (key.activateAt > now) continue;
    if (best === undefined || newer(key, best)) best = key;
  }
  if (best !== undefined) return best;
  return [...state.keys].sort((a, b) => (newer(a, b) ? 1 : -1))[0];
}

/** What to change now; `forceRotation` is an on-demand request. */
export function planKeys(state: KeySetState, now: number, policy: KeyPolicy, forceRotation = false): KeyPlan {
  const drop = state.keys.filter((k) => retiredAt(state, k, policy) <= now).map((k) => k.kid);
  const newest = state.keys.reduce<StoredKey | undefined>((a, k) => (a && !newer(k, a) ? a : k), undefined);
  if (newest === undefined) return { addKeyActivatingAt: now, drop };
  const due = newest.createdAt + policy.rotationIntervalMs <= now;
  // A rotation already under way (newest key still propagating) satisfies an on-demand request.
  const requested = forceRotation && newest.activateAt <= now;
  if (due || requested) return { addKeyActivatingAt: now + policy.propagationDelayMs, drop };
  return { drop };
}

/** Epoch ms after which `key` can no longer have a live token; Infinity while it may still sign. */
export function retiredAt(state: KeySetState, key: StoredKey, policy: KeyPolicy): number {
  let supersededAt = Number.POSITIVE_INFINITY;
  for (const other of state.keys) {
    if (other !== key && newer(other, key)) supersededAt = Math.min(supersededAt, other.activateAt);
  }
  return supersededAt + policy.tokenLifetimeMs + policy.clockSkewMs;
}

/** Public JWKS of every key in the set, in a stable order (replicas compare it to skip no-op writes). */
export function publicJwks(state: KeySetState): { keys: JWK[] } {
  const keys = [...state.keys]
    .sort((a, b) => a.createdAt - b.createdAt || a.kid.localeCompare(b.kid))
    .map((k) => ({
      kty: "OKP",
      crv: "Ed25519",
      x: k.privateJwk.x as string,
      kid: k.kid,
      alg: "EdDSA",
      use: "sig",
    }));
  return { keys };
}

function newer(a: StoredKey, b: StoredKey): boolean {
  return a.activateAt !== b.activateAt ? a.activateAt > b.activateAt : a.kid > b.kid;
}
