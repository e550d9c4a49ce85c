import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, renameSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { exportJWK, generateKeyPair } from "jose";
import { silentLogger } from "../../log/logger";
import {
  callKorokd,
  createSigningKey,
  mintToken,
  removeTempDirs,
  type SigningKey,
  startTestKorokd,
  type TestKeys,
  tempDir,
  writeJwks,
} from "../korokd-test-kit";
import { createJwksFile } from "./jwks-file";

// Real processes on a shared machine: allow for load (bun test's default is 5 s).
afterAll(removeTempDirs);
setDefaultTimeout(30_000);

/**
 * A ConfigMap volume as the kubelet writes it: `jwks.json -> ..data/jwks.json`, `..data -> ..<timestamp>`;
 * an update writes a new timestamped directory and atomically renames a new `..data` symlink over the old.
 */
function configMapVolume(keys: readonly SigningKey[]) {
  const dir = tempDir("korokd-cm-");
  let generation = 0;
  const publish = (next: readonly SigningKey[] | string) => {
    const version = `..${++generation}_${Date.now()}`;
    mkdirSync(join(dir, version));
    const file = join(dir, version, "jwks.json");
    if (typeof next === "string") writeFileSync(file, next);
    else writeJwks(file, next);
    symlinkSync(version, join(dir, "..data_tmp"));
    renameSync(join(dir, "..data_tmp"), join(dir, "..data"));
  };
  publish(keys);
  symlinkSync("..data/jwks.json", join(dir, "jwks.json"));
  return { path: join(dir, "jwks.json"), publish };
}

describe("JWKS from a ConfigMap mount", () => {
  test("a key rotation is picked up without restarting korokd", async () => {
    const oldKey = await createSigningKey("old");
    const newKey = await createSigningKey("new");
    const volume = configMapVolume([oldKey]);
    const keys: TestKeys = { dir: "", jwksPath: volume.path, key: oldKey };
    const korokd = await startTestKorokd({ "jwks-poll-interval": "100ms" }, keys);
    const status = async (key: SigningKey) =>
      (await callKorokd(korokd.url, key, "/api/contexts", undefined, { token: await mintToken(key) })).status;
    try {
      expect(await status(oldKey)).toBe(200);
      expect(await status(newKey)).toBe(401);
      volume.publish([oldKey, newKey]); // publish the new key first, as the gateway does
      await waitForStatus(() => status(newKey), 200);
      expect(await status(oldKey)).toBe(200);
      volume.publish([newKey]); // then drop the old one
      await waitForStatus(() => status(oldKey), 401);
      expect(await status(newKey)).toBe(200);
    } finally {
      await korokd.stop();
    }
  });

  test("korokd is not ready until its keys exist, then becomes ready without a restart", async () => {
    const dir = tempDir("korokd-late-");
    const key = await createSigningKey();
    const keys: TestKeys = { dir, jwksPath: join(dir, "jwks.json"), key };
    const korokd = await startTestKorokd({ "jwks-poll-interval": "100ms" }, keys);
    try {
      const health = await fetch(`${korokd.url}/health`);
      expect(health.status).toBe(503);
      expect(await health.json()).toMatchObject({ status: "not_ready", checks: { keys: false } });
      const early = await korokd.call("/api/contexts");
      expect(early.status).toBe(503);
      expect(await early.json()).toMatchObject({ error: { code: "not_ready" } });
      writeJwks(keys.jwksPath, [key]);
      await waitForStatus(async () => (await fetch(`${korokd.url}/health`)).status, 200);
      expect((await korokd.call("/api/contexts")).status).toBe(200);
    } finally {
      await korokd.stop();
    }
  });

  test("an unreadable update keeps the previous keys; private keys, non-Ed25519 keys and keys that do not import are never loaded", async () => {
    const key = await createSigningKey("good");
    const volume = configMapVolume([key]);
    const jwks = createJwksFile({ path: volume.path, pollIntervalMs: 60_000, log: silentLogger });
    expect(jwks.kids()).toEqual(["good"]);
    volume.publish("{ this is not json");
    await jwks.refresh();
    expect(jwks.kids()).toEqual(["good"]);
    const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
    volume.publish(JSON.stringify({ keys: [{ ...(await exportJWK(privateKey)), kid: "leak" }] }));
    await jwks.refresh();
    expect(jwks.kids()).toEqual(["good"]);
    const rsa = await generateKeyPair("RS256", { extractable: true });
    const rsaJwk = { ...(await exportJWK(rsa.publicKey)), kid: "rsa" };
    volume.publish(JSON.stringify({ keys: [rsaJwk, key.publicJwk] }));
    await jwks.refresh();
    expect(jwks.kids()).toEqual(["good"]);
    // An Ed25519 key whose x is no curve point is left out; the good key next to it still loads.
    const next = await createSigningKey("next");
    const broken = { ...next.publicJwk, kid: "broken", x: "AAAA" };
    volume.publish(JSON.stringify({ keys: [broken, next.publicJwk] }));
    await jwks.refresh();
    expect(jwks.kids()).toEqual(["next"]);
    jwks.stop();
  });

  test("a file rewritten in place with the same size is picked up, fresh or long settled", async () => {
    const dir = tempDir("korokd-inplace-");
    const path = join(dir, "jwks.json");
    const [one, two, six] = await Promise.all(["one", "two", "six"].map((kid) => createSigningKey(kid)));
    // In place (same inode), not through a renamed temp file as writeJwks does.
    const rewrite = (key: SigningKey | undefined) =>
      writeFileSync(path, JSON.stringify({ keys: [(key as SigningKey).publicJwk] }));
    rewrite(one);
    const inode = statSync(path).ino;
    const size = statSync(path).size;
    const jwks = createJwksFile({ path, pollIntervalMs: 20, log: silentLogger });
    try {
      expect(jwks.kids()).toEqual(["one"]);
      // Within the same tick of the file clock as the first write: inode, size and maybe times alike.
      rewrite(two);
      expect(statSync(path)).toMatchObject({ ino: inode, size });
      await waitFor(() => jwks.kids()[0] === "two");
      // Long after the last change, when the poll trusts an unchanged stat and reads nothing.
      await Bun.sleep(2_500);
      rewrite(six);
      expect(statSync(path)).toMatchObject({ ino: inode, size });
      await waitFor(() => jwks.kids()[0] === "six");
    } finally {
      jwks.stop();
    }
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  const deadline = performance.now() + 5000;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error("condition never held");
    await Bun.sleep(10);
  }
}

async function waitForStatus(probe: () => Promise<number>, expected: number): Promise<void> {
  const deadline = performance.now() + 5000;
  while ((await probe()) !== expected) {
    if (performance.now() > deadline) throw new Error(`status never became ${expected}`);
    await Bun.sleep(50);
  }
}
