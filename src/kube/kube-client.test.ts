import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFaultProxy } from "../../e2e/harness/fault-proxy";
import { createKubeClient } from "./kube-client";
import type { KubeConfig } from "./kube-config";
import { isForbidden, isTooManyRequests, type KubeError } from "./kube-error";
import { CONFIG_MAPS, SECRETS } from "./resources";
import { kubeTestEnv, proxied } from "./testdata/kube-test-env";
import { fileToken, staticToken } from "./token-source";

const env = kubeTestEnv();
const { proxy, config: viaProxy } = proxied(env.config);
const tmp = mkdtempSync(join(tmpdir(), "kube-client-test-"));
let ns = "";
beforeAll(async () => {
  ns = await env.cluster.createNamespace("kube-client");
  await env
    .client()
    .resource(CONFIG_MAPS)
    .create({ metadata: { name: "probe" } }, { namespace: ns });
});
afterAll(async () => {
  await proxy.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const fast = { retryBackoff: { baseMs: 20, maxMs: 100 } };
const probePath = () => `/api/v1/namespaces/${ns}/configmaps/probe`;
const attempts = (path: string, since: number) => proxy.requests.slice(since).filter((r) => r.path === path);

test("a 429 is retried after its Retry-After, for reads and writes alike", async () => {
  const configMaps = createKubeClient(viaProxy, fast).resource(CONFIG_MAPS);
  const mark = proxy.requests.length;
  proxy.fail({ status: 429, count: 2, retryAfterSeconds: 1, match: (r) => r.path === probePath() });
  await configMaps.get("probe", { namespace: ns });
  const tries = attempts(probePath(), mark);
  expect(tries.map((r) => r.status)).toEqual([429, 429, 200]);
  expect((tries[1]?.at ?? 0) - (tries[0]?.at ?? 0)).toBeGreaterThanOrEqual(950);

  const collection = `/api/v1/namespaces/${ns}/configmaps`;
  const before = proxy.requests.length;
  proxy.fail({
    status: 429,
    retryAfterSeconds: 0,
    match: (r) => r.method === "POST" && r.path === collection,
  });
  await configMaps.create({ metadata: { name: "after-429" } }, { namespace: ns });
  expect(attempts(collection, before).map((r) => r.status)).toEqual([429, 201]);
});

test("a 429 whose Retry-After outlives the deadline fails at once with the 429", async () => {
  const configMaps = createKubeClient(viaProxy, fast).resource(CONFIG_MAPS);
  proxy.fail({ status: 429, retryAfterSeconds: 30, match: (r) => r.path === probePath() });
  const started = performance.now();
  const err = await configMaps.get("probe", { namespace: ns, timeoutMs: 10_000 }).catch((e: unknown) => e);
  expect(isTooManyRequests(err)).toBe(true);
  expect((err as KubeError).retryAfterMs).toBe(30_000);
  // It did not sit out the deadline first.
  expect(performance.now() - started).toBeLessThan(5_000);
});

test("reads are retried on 5xx with back-off; writes are not", async () => {
  const configMaps = createKubeClient(viaProxy, fast).resource(CONFIG_MAPS);
  const mark = proxy.requests.length;
  proxy.fail({ status: 500, count: 3, match: (r) => r.path === probePath() });
  await configMaps.get("probe", { namespace: ns });
  expect(attempts(probePath(), mark).map((r) => r.status)).toEqual([500, 500, 500, 200]);

  proxy.fail({ status: 500, count: 1, match: (r) => r.method === "PATCH" && r.path === probePath() });
  const err = await configMaps
    .patch("probe", { namespace: ns, type: "merge", patch: { data: { x: "1" } } })
    .catch((e: unknown) => e);
  expect(err).toMatchObject({ code: 500 });
  expect(attempts(probePath(), mark).filter((r) => r.method === "PATCH")).toHaveLength(1);
});

test("a read survives the apiserver being unreachable for a while (network errors are retried)", async () => {
  const port = await freePort();
  const direct: KubeConfig = { ...viaProxy, server: `http://127.0.0.1:${port}` };
  const configMaps = createKubeClient(direct, {
    retryBackoff: { baseMs: 100, maxMs: 400 },
    maxRetries: 10,
  }).resource(CONFIG_MAPS);
  const reading = configMaps.get("probe", { namespace: ns });
  await Bun.sleep(300);
  const { ca, cert, key } = env.config.tls;
  const late = startFaultProxy({
    upstream: env.config.server,
    tls: { ca: ca ?? "", cert: cert ?? "", key: key ?? "" },
    port,
  });
  try {
    expect((await reading).metadata?.name).toBe("probe");
  } finally {
    await late.stop();
  }
  const refused = await createKubeClient(direct, { ...fast, maxRetries: 2 })
    .resource(CONFIG_MAPS)
    .get("probe", { namespace: ns })
    .catch((e: unknown) => e);
  expect(refused).toMatchObject({ code: 0, reason: "NetworkError" });
});

test("every call has a deadline, and the caller's AbortSignal ends it", async () => {
  const configMaps = createKubeClient(viaProxy, fast).resource(CONFIG_MAPS);
  proxy.delay(1_000);
  try {
    const late = await configMaps.get("probe", { namespace: ns, timeoutMs: 200 }).catch((e: unknown) => e);
    expect(late).toMatchObject({ code: 0, reason: "DeadlineExceeded" });
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 100);
    const aborted = await configMaps
      .get("probe", { namespace: ns, signal: ctl.signal })
      .catch((e: unknown) => e);
    expect(aborted).toMatchObject({ code: 0, reason: "Aborted" });
    const watchCtl = new AbortController();
    setTimeout(() => watchCtl.abort(), 100);
    const watch = await configMaps.watch({ namespace: ns, signal: watchCtl.signal }).catch((e: unknown) => e);
    expect(watch).toMatchObject({ reason: "Aborted" });
  } finally {
    proxy.delay(0);
  }
});

async function serviceAccountToken(name: string): Promise<string> {
  const made = await env.cluster.kubectl(["create", "serviceaccount", name, "-n", ns]);
  expect(made.code).toBe(0);
  const token = await env.cluster.kubectl(["create", "token", name, "-n", ns, "--duration=1h"]);
  expect(token.code).toBe(0);
  return token.stdout.trim();
}

test("a ServiceAccount without the permission gets Forbidden naming the verb and the resource", async () => {
  const token = await serviceAccountToken("no-rights");
  const { cert: _cert, key: _key, ...tls } = env.config.tls;
  const client = createKubeClient({ ...env.config, tls, token: staticToken(token) });
  const err = await client
    .resource(SECRETS)
    .list({ namespace: ns })
    .catch((e: unknown) => e);
  expect(isForbidden(err)).toBe(true);
  const e = err as KubeError;
  expect(e.code).toBe(403);
  expect(e.message).toContain(`"system:serviceaccount:${ns}:no-rights"`);
  expect(e.message).toContain('cannot list resource "secrets"');
  expect(e.details?.kind).toBe("secrets");
  const getErr = await client
    .resource(CONFIG_MAPS)
    .get("probe", { namespace: ns })
    .catch((x: unknown) => x);
  expect((getErr as KubeError).message).toContain('cannot get resource "configmaps"');
});

test("after a 401 a rotated token file is re-read and the call succeeds", async () => {
  const token = await serviceAccountToken("rotating");
  await env.cluster.kubectl([
    "create",
    "rolebinding",
    "rotating-view",
    "--clusterrole=view",
    `--serviceaccount=${ns}:rotating`,
    "-n",
    ns,
  ]);
  const file = join(tmp, "token");
  writeFileSync(file, "expired-token");
  const source = fileToken(file, { maxAgeMs: 3_600_000 });
  const { cert: _cert, key: _key, ...tls } = env.config.tls;
  const client = createKubeClient({ ...env.config, tls, token: source });
  const unauthorized = await client
    .resource(CONFIG_MAPS)
    .get("probe", { namespace: ns })
    .catch((e: unknown) => e);
  expect(unauthorized).toMatchObject({ code: 401 });
  writeFileSync(file, token);
  // The cache still holds the old token (max age 1 h): only the 401 makes the client read the file again.
  const ok = await client.resource(CONFIG_MAPS).get("probe", { namespace: ns });
  expect(ok.metadata?.name).toBe("probe");
});

async function freePort(): Promise<number> {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

test("200 calls at once keep at most maxInFlight on the wire, reusing that many connections", async () => {
  let inFlight = 0;
  let peak = 0;
  const ports = new Set<number>();
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req, srv) {
      ports.add(srv.requestIP(req)?.port ?? 0);
      peak = Math.max(peak, ++inFlight);
      await Bun.sleep(10);
      inFlight--;
      return Response.json({ kind: "ConfigMap", metadata: { name: "probe" } });
    },
  });
  try {
    const plain: KubeConfig = { ...viaProxy, server: `http://127.0.0.1:${server.port}` };
    const client = createKubeClient(plain, { qps: 0, maxInFlight: 16 });
    for (let round = 0; round < 3; round++) {
      const all = await Promise.all(
        Array.from({ length: 200 }, () => client.request<{ kind: string }>({ method: "GET", path: "/x" })),
      );
      expect(all.every((r) => r.kind === "ConfigMap")).toBe(true);
    }
    expect(peak).toBe(16);
    expect(ports.size).toBeLessThanOrEqual(16);
  } finally {
    server.stop(true);
  }
});

test("an interactive call takes the next free connection slot ahead of normal calls queued before it", async () => {
  const configMaps = createKubeClient(viaProxy, { maxInFlight: 1 }).resource(CONFIG_MAPS);
  const collection = `/api/v1/namespaces/${ns}/configmaps`;
  proxy.delay(100); // each call holds the only slot long enough for the others to queue behind it
  try {
    const mark = proxy.requests.length;
    const normal = [0, 1, 2].map(() => configMaps.get("probe", { namespace: ns }));
    const urgent = configMaps.list({ namespace: ns, priority: "interactive" });
    await Promise.all([...normal, urgent]);
    const order = proxy.requests.slice(mark).map((r) => r.path);
    expect(order).toEqual([probePath(), collection, probePath(), probePath()]);
  } finally {
    proxy.delay(0);
  }
});
