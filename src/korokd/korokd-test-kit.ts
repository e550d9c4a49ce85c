/**
 * Shared by korokd's tests and benchmark: real Ed25519 keys and a JWKS file, tokens minted with jose,
 * korokd started in-process (real socket) or as its own process, and /proc helpers to prove that
 * processes are gone. Not imported by korokd itself.
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { tempDir } from "../../e2e/harness/temp-dirs";
import { loadConfig } from "../config/load-config";
import { listProcesses, readProcStat } from "./exec/process-tree";
import { type KorokdStartSettings, type RunningKorokd, startKorokd } from "./start-korokd";

export const POD_NAMESPACE = "ns-test";
export const POD_NAME = "pod-a";
export const AUDIENCE = `${POD_NAMESPACE}/${POD_NAME}`;
export const ISSUER = "agentland-gateway";
const REPO_ROOT = join(import.meta.dir, "../..");

/** Keys and workspaces below come from `tempDir`: a test file using them calls `removeTempDirs` in `afterAll`. */
export { removeTempDirs, tempDir } from "../../e2e/harness/temp-dirs";

export interface SigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

export interface TestKeys {
  readonly dir: string;
  readonly jwksPath: string;
  readonly key: SigningKey;
}

export async function createSigningKey(kid = `k-${crypto.randomUUID().slice(0, 8)}`): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: "EdDSA", use: "sig" } };
}

/** Writes the JWKS atomically (rename), as a ConfigMap update never shows a half-written file. */
export function writeJwks(path: string, keys: readonly SigningKey[]): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ keys: keys.map((k) => k.publicJwk) }));
  renameSync(tmp, path);
}

export async function createTestKeys(): Promise<TestKeys> {
  const dir = tempDir("korokd-keys-");
  const jwksPath = join(dir, "jwks.json");
  const key = await createSigningKey();
  writeJwks(jwksPath, [key]);
  return { dir, jwksPath, key };
}

export interface MintOptions {
  readonly claims?: Record<string, unknown>;
  /** Claims to leave out entirely. */
  readonly omit?: readonly string[];
  readonly header?: Record<string, unknown>;
  readonly audience?: string;
  readonly expiresInSeconds?: number;
}

export async function mintToken(key: SigningKey, options: MintOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    iss: ISSUER,
    aud: options.audience ?? AUDIENCE,
    sid: "session-1",
    jti: crypto.randomUUID(),
    iat: now,
    exp: now + (options.expiresInSeconds ?? 60),
    ...options.claims,
  };
  for (const name of options.omit ?? []) delete claims[name];
  return await new SignJWT(claims)
    .setProtectedHeader({ alg: "EdDSA", kid: key.kid, ...options.header })
    .sign(key.privateKey);
}

export interface TestKorokd {
  readonly url: string;
  readonly workspace: string;
  readonly keys: TestKeys;
  readonly running: RunningKorokd;
  /** POSTs JSON (or GETs when body is undefined) with a freshly minted token. */
  call(path: string, body?: unknown, init?: RequestInit & { token?: string | null }): Promise<Response>;
  stop(): Promise<void>;
}

export function korokdSettings(flags: Record<string, string>, keys: TestKeys): KorokdStartSettings {
  const argv = ["--mode=korokd", ...Object.entries(flags).map(([k, v]) => `--${k}=${v}`)];
  const env = { POD_NAMESPACE, POD_NAME, AGENTLAND_JWKS_PATH: keys.jwksPath };
  const invocation = loadConfig(argv, env);
  if (invocation.kind !== "run" || invocation.config.mode !== "korokd")
    throw new Error("not a korokd config");
  return invocation.config.settings;
}

/** Korokd in this process on 127.0.0.1 and a free port, with its own workspace. */
export async function startTestKorokd(
  flags: Record<string, string> = {},
  keys?: TestKeys,
): Promise<TestKorokd> {
  const testKeys = keys ?? (await createTestKeys());
  const workspace = tempDir("korokd-ws-");
  const settings = korokdSettings(
    {
      "listen-host": "127.0.0.1",
      "workspace-dir": workspace,
      "kill-grace": "500ms",
      "log-level": "warn",
      ...flags,
    },
    testKeys,
  );
  const running = startKorokd({ ...settings, "listen-port": 0 });
  // Tests start from the state a claimed pod is in: warm-up over.
  await running.warmedUp;
  return {
    url: running.url,
    workspace,
    keys: testKeys,
    running,
    call: (path, body, init) => callKorokd(running.url, testKeys.key, path, body, init),
    stop: () => running.stop(5000),
  };
}

export async function callKorokd(
  url: string,
  key: SigningKey,
  path: string,
  body?: unknown,
  init: RequestInit & { token?: string | null } = {},
): Promise<Response> {
  const { token, headers, ...rest } = init;
  const auth = token === null ? {} : { authorization: `Bearer ${token ?? (await mintToken(key))}` };
  return await fetch(`${url}${path}`, {
    method: body === undefined ? "GET" : "POST",
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
    ...rest,
    headers: { "content-type": "application/json", ...auth, ...(headers as Record<string, string>) },
  });
}

export interface SpawnedKorokd {
  readonly url: string;
  /** Korokd's own pid (as the host sees it). */
  readonly pid: number;
  readonly proc: ReturnType<typeof Bun.spawn>;
  stop(): Promise<number>;
}

export interface SpawnOptions {
  /** Extra environment for korokd (beyond its pod identity and JWKS path). */
  readonly env?: Record<string, string>;
  /** A command korokd runs under, e.g. `unshare --pid --fork --mount-proc`. */
  readonly wrapper?: readonly string[];
  /** A compiled agentland executable; default `bun src/main.ts`. */
  readonly executable?: string;
}

/** Korokd as a separate process; resolves once it printed its URL. */
export async function spawnKorokd(
  keys: TestKeys,
  flags: Record<string, string>,
  options: SpawnOptions = {},
): Promise<SpawnedKorokd> {
  const args = Object.entries({
    "listen-host": "127.0.0.1",
    "listen-port": String(await freePort()),
    ...flags,
  });
  const program = options.executable === undefined ? [process.execPath, "src/main.ts"] : [options.executable];
  const proc = Bun.spawn({
    cmd: [...(options.wrapper ?? []), ...program, "--mode=korokd", ...args.map(([k, v]) => `--${k}=${v}`)],
    cwd: REPO_ROOT,
    env: {
      PATH: "/usr/bin:/bin",
      POD_NAMESPACE,
      POD_NAME,
      AGENTLAND_JWKS_PATH: keys.jwksPath,
      ...options.env,
    },
    stdout: "pipe",
    stderr: "inherit",
  });
  const url = await readStartedUrl(proc.stdout);
  await waitWarmedUp(url);
  // Behind a wrapper (unshare --fork) korokd is the wrapper's child; signal korokd itself, since
  // unshare ignores SIGTERM while it waits.
  const pid = options.wrapper === undefined ? proc.pid : childOf(proc.pid);
  return {
    url,
    pid,
    proc,
    async stop() {
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        // Already gone.
      }
      const forced = setTimeout(() => proc.kill("SIGKILL"), 15_000);
      try {
        return await proc.exited;
      } finally {
        clearTimeout(forced);
      }
    },
  };
}

/** Polls /health until korokd says its warm-up is over (whatever else it still lacks). */
export async function waitWarmedUp(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const health = await fetch(`${url}/health`).then(
      async (r) => (await r.json()) as { checks?: Record<string, boolean> },
      () => ({ checks: undefined }),
    );
    if (health.checks?.["warmed_up"] === true) return;
    if (performance.now() > deadline) throw new Error(`korokd at ${url} did not finish its warm-up`);
    await Bun.sleep(10);
  }
}

function childOf(parent: number): number {
  const child = listProcesses().find((p) => p.ppid === parent);
  if (child === undefined) throw new Error(`process ${parent} has no child`);
  return child.pid;
}

async function readStartedUrl(stdout: ReadableStream<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  const reader = stdout.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`korokd exited before starting:\n${text}`);
    text += decoder.decode(value, { stream: true });
    const started = /"msg":"started"[^\n]*"url":"([^"]+)"/.exec(text);
    if (started) {
      // Keep draining its log so korokd never blocks on a full pipe.
      void (async () => {
        while (!(await reader.read().catch(() => ({ done: true }))).done) {}
      })();
      return started[1] as string;
    }
  }
}

export async function freePort(): Promise<number> {
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = server.port as number;
  await server.stop(true);
  return port;
}

/** True while `pid` exists and is not a zombie. */
export function isRunning(pid: number): boolean {
  const stat = readProcStat(pid);
  return stat !== undefined && stat.state !== "Z";
}

/** Live (non-zombie) processes of a process group. */
export function liveGroupMembers(pgid: number): number[] {
  return listProcesses()
    .filter((p) => p.pgid === pgid && p.state !== "Z")
    .map((p) => p.pid);
}

export async function waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(20);
  }
}

export function rssKiB(pid: number, field: "VmRSS" | "VmHWM" = "VmRSS"): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
  if (!match) throw new Error(`no ${field} for pid ${pid}`);
  return Number(match[1]);
}
