/**
 * The gateway's public keys, read from a JWKS file that Kubernetes mounts from a ConfigMap. The kubelet
 * updates such a mount by swapping the `..data` symlink, so inotify on the file itself misses updates;
 * instead the resolved file is looked at on a short interval and swapped in when its content changed.
 * A look is one `stat`: the file is read only when what stat says of it (inode, size, times) changed, or
 * while its last change is too recent to trust them (file times tick at the kernel's coarse clock, so two
 * same-size writes within one tick look alike). Reading it every second cost an idle korokd about 1 ms of
 * CPU per second (Bun's asynchronous readFile wakes its thread pool), in every warm pod.
 * Only Ed25519 signing keys with a `kid` are kept: korokd accepts EdDSA and nothing else.
 */
import { createPublicKey, type KeyObject } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import * as v from "valibot";
import type { Logger } from "../../log/logger";
import type { VerificationKeys } from "./ed25519-jws";

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
  /** The current keys (imported when the file was read), or undefined while no usable key is loaded. */
  current(): VerificationKeys | undefined;
  /** Kids currently loaded (for health output and logs; never sent to clients in errors). */
  kids(): readonly string[];
  /** Re-reads the file now; resolves once the new content (if any) is in effect. */
  refresh(): Promise<void>;
  stop(): void;
}

export function createJwksFile(options: { path: string; pollIntervalMs: number; log: Logger }): JwksSource {
  const { path, log } = options;
  let lastText: string | undefined;
  let keys: VerificationKeys | undefined;
  let kids: string[] = [];

  function apply(text: string): void {
    if (text === lastText) return;
    const parsed = parseJwks(text);
    if (parsed instanceof Error) {
      log.warn("jwks file unreadable, keeping previous keys", { path, error: parsed.message });
      return;
    }
    lastText = text;
    kids = [...parsed.keys()];
    keys = parsed.size > 0 ? parsed : undefined;
    log.info("jwks loaded", { path, kids });
  }

  try {
    apply(readFileSync(path, "utf8"));
  } catch (err) {
    log.warn("jwks file not readable yet", { path, error: String(err) });
  }

  let polling = false;
  /** The stat signature of the content last read, once its times were settled. */
  let unchanged: string | undefined;
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
    const seen = statSignature(path);
    if (seen !== undefined && seen.signature === unchanged) return;
    polling = true;
    // refresh() never rejects; the flag keeps slow reads from piling up. Stat came first: a change
    // between the two is read now or, its signature being new, at the next look.
    void refresh().finally(() => {
      polling = false;
      unchanged = seen?.settled ? seen.signature : undefined;
    });
  }, options.pollIntervalMs);
  timer.unref();

  return {
    current: () => keys,
    kids: () => kids,
    refresh,
    stop: () => clearInterval(timer),
  };
}

/** How long after its last change a file's stat times are trusted to show the next change. */
const SETTLED_AFTER_MS = 2_000;

/** Inode, size and times of the file the path resolves to; undefined when it cannot be looked at. */
function statSignature(path: string): { signature: string; settled: boolean } | undefined {
  try {
    const s = statSync(path, { bigint: true });
    const changedMs = Number(s.ctimeNs / 1_000_000n);
    return {
      signature: `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`,
      settled: Date.now() - changedMs > SETTLED_AFTER_MS,
    };
  } catch {
    return undefined;
  }
}

/**
 * Keeps the Ed25519 public signing keys that have a kid, imported once here rather than per request. A
 * key that does not import is left out like a key of another type; anything private is refused outright.
 */
function parseJwks(text: string): Map<string, KeyObject> | Error {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
  const parsed = v.safeParse(JwksSchema, json);
  if (!parsed.success) return new Error(`not a JWKS: ${parsed.issues[0].message}`);
  if (parsed.output.keys.some((k) => k.d !== undefined)) return new Error("JWKS contains a private key");
  const keys = new Map<string, KeyObject>();
  for (const k of parsed.output.keys) {
    const usable =
      k.kty === "OKP" &&
      k.crv === "Ed25519" &&
      typeof k.x === "string" &&
      typeof k.kid === "string" &&
      k.kid.length > 0 &&
      (k.alg === undefined || k.alg === "EdDSA") &&
      (k.use === undefined || k.use === "sig");
    if (!usable) continue;
    try {
      keys.set(
        k.kid as string,
        createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: k.x as string }, format: "jwk" }),
      );
    } catch {
      // Not a valid Ed25519 point: unusable, like a key of another type.
    }
  }
  return keys;
}
