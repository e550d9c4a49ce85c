import { afterEach, describe, expect, test } from "bun:test";
import { renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { removeTempDirs, tempDir } from "../../../e2e/harness/temp-dirs";
import { silentLogger } from "../../log/logger";
import { createApiKey, parseApiKeyFile } from "./api-key-file";
import { type ApiKeyStore, createApiKeyStore } from "./api-key-store";

const stores: ApiKeyStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.stop();
  removeTempDirs();
});

function keysFile(entries: unknown[]): string {
  const dir = tempDir("gw-keys-");
  const path = join(dir, "keys.json");
  writeFileSync(path, JSON.stringify({ keys: entries }));
  return path;
}

function store(path: string): ApiKeyStore {
  const s = createApiKeyStore({ path, pollIntervalMs: 3_600_000, log: silentLogger });
  stores.push(s);
  return s;
}

describe("API keys", () => {
  test("a created key authenticates as its principal; the file holds only its hash", () => {
    const { key, entry } = createApiKey({ id: "alice-laptop", principal: "alice" });
    expect(key).toMatch(/^agl_[A-Za-z0-9_-]{43}$/);
    const path = keysFile([entry]);
    expect(JSON.stringify(entry)).not.toContain(key.slice(4));
    const s = store(path);
    expect(s.lookup(key)?.principal).toBe("alice");
    expect(s.lookup(`${key}x`)).toBeUndefined();
    expect(s.lookup("")).toBeUndefined();
  });

  test("a replaced Secret file is picked up; a broken update keeps the previous keys", async () => {
    const a = createApiKey({ id: "a", principal: "alice" });
    const b = createApiKey({ id: "b", principal: "bob" });
    const path = keysFile([a.entry]);
    const s = store(path);
    // Kubernetes swaps the mounted file atomically; do the same.
    writeFileSync(`${path}.new`, JSON.stringify({ keys: [b.entry] }));
    renameSync(`${path}.new`, path);
    await s.refresh();
    expect(s.lookup(a.key)).toBeUndefined();
    expect(s.lookup(b.key)?.principal).toBe("bob");
    writeFileSync(path, "{ not json");
    await s.refresh();
    expect(s.lookup(b.key)?.principal).toBe("bob");
  });

  test("a key remembered as valid stops working as soon as the file revokes it", async () => {
    const a = createApiKey({ id: "a", principal: "alice" });
    const b = createApiKey({ id: "b", principal: "bob" });
    const path = keysFile([a.entry, b.entry]);
    const s = createApiKeyStore({ path, pollIntervalMs: 3_600_000, log: silentLogger, maxRemembered: 1 });
    stores.push(s);
    // More keys than the memory holds, each twice: every verdict stays right.
    for (let i = 0; i < 2; i++) {
      expect(s.lookup(a.key)?.principal).toBe("alice");
      expect(s.lookup(b.key)?.principal).toBe("bob");
      expect(s.lookup(`${a.key}x`)).toBeUndefined();
    }
    writeFileSync(`${path}.new`, JSON.stringify({ keys: [b.entry] }));
    renameSync(`${path}.new`, path);
    await s.refresh();
    expect(s.lookup(a.key)).toBeUndefined();
    expect(s.lookup(b.key)?.principal).toBe("bob");
  });

  test("a missing file refuses everyone until it appears", async () => {
    const dir = tempDir("gw-keys-");
    const path = join(dir, "keys.json");
    const s = store(path);
    const a = createApiKey({ id: "a", principal: "alice" });
    expect(s.lookup(a.key)).toBeUndefined();
    writeFileSync(path, JSON.stringify({ keys: [a.entry] }));
    await s.refresh();
    expect(s.lookup(a.key)?.principal).toBe("alice");
  });

  test("a malformed keys file is rejected naming the problem", () => {
    expect(() => parseApiKeyFile("[]")).toThrow("API keys file");
    expect(() =>
      parseApiKeyFile(JSON.stringify({ keys: [{ id: "x", principal: "a b", sha256: "0".repeat(64) }] })),
    ).toThrow("keys.0.principal");
    expect(() =>
      parseApiKeyFile(JSON.stringify({ keys: [{ id: "x", principal: "a", sha256: "XYZ" }] })),
    ).toThrow("sha256");
    const dup = { id: "x", principal: "a", sha256: "0".repeat(64) };
    expect(() =>
      parseApiKeyFile(JSON.stringify({ keys: [dup, { ...dup, sha256: "1".repeat(64) }] })),
    ).toThrow("duplicate id");
    expect(() =>
      createApiKeyStore({ path: keysFile([{ id: 1 }]), pollIntervalMs: 1000, log: silentLogger }),
    ).toThrow();
  });
});
