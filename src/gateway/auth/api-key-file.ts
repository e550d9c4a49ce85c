/**
 * API keys, stored hashed. The gateway reads them from a file that Kubernetes mounts from a Secret
 * (setting `api-keys-path`, default `/etc/agentland/api-keys/keys.json`). The file is JSON:
 *
 * ```json
 * { "keys": [ { "id": "alice-laptop", "principal": "alice", "sha256": "<64 hex digits>" } ] }
 * ```
 *
 * - `id` names the entry (logs, revocation); unique in the file.
 * - `principal` is who the key acts as: sessions are bound to it and counted against its quota. It is
 *   written to a Kubernetes label by AgentCore, hence the label-value syntax (≤ 63 characters).
 * - `sha256` is the lower-case hex SHA-256 of the whole key string. Keys are 256-bit random strings, so a
 *   fast hash is enough (nothing to brute-force) and keeps authentication out of the latency budget.
 *
 * Make a key and its entry without any extra tool (prints the key once, and the entry for the file):
 *
 * ```sh
 * bun -e 'import { createApiKey } from "./src/gateway/auth/api-key-file";
 *   console.log(JSON.stringify(createApiKey({ id: "alice-laptop", principal: "alice" }), null, 2))'
 * ```
 *
 * then add `entry` to `keys` and store the file:
 * `kubectl -n agentland-system create secret generic agentland-gateway-api-keys --from-file=keys.json`.
 */
import { createHash, randomBytes } from "node:crypto";
import * as v from "valibot";

const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

const ApiKeyEntrySchema = v.object({
  id: v.pipe(v.string(), v.nonEmpty("must not be empty"), v.maxLength(128)),
  principal: v.pipe(v.string(), v.regex(LABEL_VALUE, "must be a Kubernetes label value (≤ 63 characters)")),
  sha256: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, "must be 64 lower-case hex digits")),
});

export const ApiKeyFileSchema = v.object({ keys: v.array(ApiKeyEntrySchema) });

export type ApiKeyEntry = v.InferOutput<typeof ApiKeyEntrySchema>;

/** The hash the file stores for a key. */
export function hashApiKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/** A new random key (shown to its owner once) and the entry to put in the keys file. */
export function createApiKey(opts: { id: string; principal: string }): { key: string; entry: ApiKeyEntry } {
  const key = `agl_${randomBytes(32).toString("base64url")}`;
  const entry = v.parse(ApiKeyEntrySchema, { ...opts, sha256: hashApiKey(key) });
  return { key, entry };
}

/** Parses the file's text into hash → entry; throws an Error naming the problem. */
export function parseApiKeyFile(text: string): Map<string, ApiKeyEntry> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`API keys file is not JSON: ${(err as Error).message}`);
  }
  const parsed = v.safeParse(ApiKeyFileSchema, json);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const at = issue.path?.map((p) => String(p.key)).join(".") ?? "";
    throw new Error(`API keys file: ${at ? `${at}: ` : ""}${issue.message}`);
  }
  const byHash = new Map<string, ApiKeyEntry>();
  const ids = new Set<string>();
  for (const entry of parsed.output.keys) {
    if (ids.has(entry.id)) throw new Error(`API keys file: duplicate id "${entry.id}"`);
    ids.add(entry.id);
    byHash.set(entry.sha256, entry);
  }
  return byHash;
}
