/**
 * The gateway's public keys, read from a JWKS file that Kubernetes mounts from a ConfigMap. The kubelet
 * updates such a mount by swapping the `..data` symlink, so inotify on the file itself misses updates;
 * instead the resolved file is re-read on a short interval and swapped in when its content changed.
 * Only Ed25519 signing keys with a `kid` are kept: korokd accepts EdDSA and nothing else.
 */
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createLocalJWKSet, type JWK, type JWTVerifyGetKey } from "jose";
import * as v from "valibot";
import type { Logger } from "../../log/logger";

const JwkSchema = v.looseObject({
  kty: v.string(),
  crv: v.optional(v.string()),
  x: v.optional(v.string()),
  kid: v.optional(v.string()),
  alg: v.optional(v.string()),
  use: v.optional(v.string()),
  d: v.optional(v.unknown()),
});
const JwksSchema = v.object({ keys: v.array(JwkSchema) });

export interface JwksSource {
  /** The current key set for jose, or undefined while no usable key is loaded. */
  current(): JWTVerifyGetKey | undefined;
  /** Kids currently loaded (for health output and logs; never sent to clients in errors). */
  kids(): readonly string[];
  /** Re-reads the file now; resolves once the new content (if any) is in effect. */
  refresh(): Promise<void>;
  /** Imports every loaded key now, so the first request does not pay for it; never rejects. */
  preload(): Promise<void>;
  stop(): void;
}

export function createJwksFile(options: { path: string; pollIntervalMs: number; log: Logger }): JwksSource {
  const { path, log } = options;
  let lastText: string | undefined;
  let keySet: JWTVerifyGetKey | undefined;
  let kids: string[] = [];

  function apply(text: string): void {
    if (text === lastText) return;
    const parsed = parseJwks(text);
    if (parsed instanceof Error) {
      log.warn("jwks file unreadable, keeping previous keys", { path, error: parsed.message });
      return;
    }
    lastText = text;
    kids = parsed.map((k) => k.kid as string);
    keySet = parsed.length > 0 ? createLocalJWKSet({ keys: parsed }) : undefined;
    log.info("jwks loaded", { path, kids });
    // A rotated-in key is imported now rather than by the first request signed with it.
    void preload();
  }

  /** The key set caches each imported key, so asking for every kid once is all it takes. */
  async function preload(): Promise<void> {
    const set = keySet;
    if (set === undefined) return;
    // The key set only reads the header; the token argument is there for remote sets.
    const token = { payload: "", signature: "" };
    await Promise.all(
      kids.map((kid) => Promise.resolve(set({ alg: "EdDSA", kid }, token)).catch(() => undefined)),
    );
  }

  try {
    apply(readFileSync(path, "utf8"));
  } catch (err) {
    log.warn("jwks file not readable yet", { path, error: String(err) });
  }

  let polling = false;
  async function refresh(): Promise<void> {
    try {
      apply(await readFile(path, "utf8"));
    } catch (err) {
      if (lastText !== undefined) log.warn("jwks file not readable, keeping previous keys", { path });
      else log.debug("jwks file still missing", { path, error: String(err) });
    }
  }
  const timer = setInterval(() => {
    if (polling) return;
    polling = true;
    // refresh() never rejects; the flag keeps slow reads from piling up.
    void refresh().finally(() => {
      polling = false;
    });
  }, options.pollIntervalMs);
  timer.unref();

  return {
    current: () => keySet,
    kids: () => kids,
    refresh,
    preload,
    stop: () => clearInterval(timer),
  };
}

/** Keeps the Ed25519 public signing keys that have a kid; anything private is refused outright. */
function parseJwks(text: string): JWK[] | Error {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
  const parsed = v.safeParse(JwksSchema, json);
  if (!parsed.success) return new Error(`not a JWKS: ${parsed.issues[0].message}`);
  if (parsed.output.keys.some((k) => k.d !== undefined)) return new Error("JWKS contains a private key");
  return parsed.output.keys
    .filter(
      (k) =>
        k.kty === "OKP" &&
        k.crv === "Ed25519" &&
        typeof k.x === "string" &&
        typeof k.kid === "string" &&
        k.kid.length > 0 &&
        (k.alg === undefined || k.alg === "EdDSA") &&
        (k.use === undefined || k.use === "sig"),
    )
    .map((k) => ({ kty: k.kty, crv: k.crv, x: k.x, kid: k.kid, ...(k.alg ? { alg: k.alg } : {}) }) as JWK);
}
