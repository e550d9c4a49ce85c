/**
 * The token-minting thread (a Bun Worker started by `worker-token-pool.ts`). It signs batches of
 * per-request tokens with the same minter the gateway would use inline, so the Ed25519 signatures — the
 * largest single cost of a proxied request — run beside the request loop instead of on it. It keeps no
 * state beyond the signing keys it was sent and the claim encodings the minter caches.
 */
import { createPrivateKey, type webcrypto } from "node:crypto";
import {
  type ActiveSigningKey,
  createTokenMinter,
  encodedJoseHeader,
  type TokenMinter,
} from "./token-minter";

/** Main thread → worker. */
export type ToMintWorker =
  | { readonly type: "init"; readonly issuer: string; readonly lifetimeMs: number }
  | { readonly type: "key"; readonly kid: string; readonly jwk: webcrypto.JsonWebKey }
  | {
      readonly type: "mint";
      readonly key: string;
      readonly audience: string;
      readonly sessionId: string;
      readonly count: number;
    };

/** Worker → main thread: `count` fresh tokens for one target, all signed with `kid`. */
export interface FromMintWorker {
  readonly type: "tokens";
  readonly key: string;
  readonly kid: string;
  readonly tokens: string[];
}

declare const self: Worker;

let signing: ActiveSigningKey | undefined;
let minter: TokenMinter | undefined;

self.onmessage = (event: MessageEvent<ToMintWorker>) => {
  const msg = event.data;
  if (msg.type === "init") {
    minter = createTokenMinter({
      keys: { current: () => signing },
      issuer: msg.issuer,
      lifetimeMs: msg.lifetimeMs,
      clock: { now: () => Date.now() },
    });
  } else if (msg.type === "key") {
    const key = createPrivateKey({ key: msg.jwk, format: "jwk" });
    signing = { kid: msg.kid, key, encodedHeader: encodedJoseHeader(msg.kid) };
  } else {
    // Always answered, even empty (no key yet): the pool waits for one answer per request.
    const tokens: string[] = [];
    const kid = signing?.kid ?? "";
    if (minter !== undefined && signing !== undefined) {
      const target = { audience: msg.audience, sessionId: msg.sessionId };
      for (let i = 0; i < msg.count; i++) tokens.push(minter.mint(target));
    }
    const reply: FromMintWorker = { type: "tokens", key: msg.key, kid, tokens };
    self.postMessage(reply);
  }
};
