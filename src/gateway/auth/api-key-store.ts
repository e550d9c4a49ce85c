/**
 * The current API keys, re-read from the mounted Secret file while the gateway runs. Kubernetes updates
 * such a mount by swapping a symlink, so the file is re-read on an interval and swapped in when its text
 * changed; a broken update keeps the previous keys (and is logged) rather than locking everyone out.
 *
 * Clients send the same key on every request, so a verified key is remembered (bounded, oldest first out)
 * and the next request with it costs one map lookup instead of a SHA-256. Refused keys are remembered
 * too, so a client retrying a bad key costs no more. The memory is dropped whenever the keys change.
 */
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import type { Logger } from "../../log/logger";
import { describeError } from "../describe-error";
import { type ApiKeyEntry, hashApiKey, parseApiKeyFile } from "./api-key-file";

export interface ApiKeyStore {
  /** The entry whose hash matches the presented key, if any. */
  lookup(presentedKey: string): ApiKeyEntry | undefined;
  /** Re-reads the file now. */
  refresh(): Promise<void>;
  stop(): void;
}

export interface ApiKeyStoreOptions {
  readonly path: string;
  readonly pollIntervalMs: number;
  readonly log: Logger;
  /** Presented keys whose verdict is remembered at most (default 4096). */
  readonly maxRemembered?: number;
}

/**
 * Reads the file once synchronously, then polls it. A broken file fails start-up (a config error); a
 * missing one does not (the Secret mount is optional, so the gateway can start before an operator makes
 * the first key): until it appears every request is refused.
 */
export function createApiKeyStore(opts: ApiKeyStoreOptions): ApiKeyStore {
  let lastText: string | undefined;
  let keys = new Map<string, ApiKeyEntry>();
  const verdicts = createVerdictMemory(opts.maxRemembered ?? 4096);
  try {
    lastText = readFileSync(opts.path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    opts.log.warn("api keys file missing: every request is refused until it exists", { path: opts.path });
  }
  if (lastText !== undefined) {
    keys = parseApiKeyFile(lastText);
    opts.log.info("api keys loaded", { path: opts.path, count: keys.size });
  }

  async function refresh(): Promise<void> {
    let text: string;
    try {
      text = await readFile(opts.path, "utf8");
    } catch (err) {
      if (lastText !== undefined) {
        opts.log.warn("api keys file unreadable, keeping previous keys", { error: describeError(err) });
      }
      return;
    }
    if (text === lastText) return;
    try {
      keys = parseApiKeyFile(text);
      verdicts.clear();
      lastText = text;
      opts.log.info("api keys reloaded", { path: opts.path, count: keys.size });
    } catch (err) {
      opts.log.warn("api keys file invalid, keeping previous keys", { error: describeError(err) });
    }
  }

  let polling = false;
  const timer = setInterval(() => {
    if (polling) return;
    polling = true;
    // refresh() never rejects; the flag keeps slow reads from piling up.
    void refresh().finally(() => {
      polling = false;
    });
  }, opts.pollIntervalMs);
  timer.unref();

  return {
    lookup(presented) {
      const known = verdicts.get(presented);
      if (known !== undefined) return known === REFUSED ? undefined : known;
      const entry = keys.get(hashApiKey(presented));
      verdicts.set(presented, entry ?? REFUSED);
      return entry;
    },
    refresh,
    stop: () => clearInterval(timer),
  };
}

const REFUSED = "refused";

/** Presented key → its entry or REFUSED, at most `max` of them (insertion order: oldest leaves first). */
function createVerdictMemory(max: number) {
  const verdicts = new Map<string, ApiKeyEntry | typeof REFUSED>();
  return {
    get: (key: string) => verdicts.get(key),
    set(key: string, verdict: ApiKeyEntry | typeof REFUSED) {
      if (verdicts.size >= max) verdicts.delete(verdicts.keys().next().value as string);
      verdicts.set(key, verdict);
    },
    clear: () => verdicts.clear(),
  };
}
