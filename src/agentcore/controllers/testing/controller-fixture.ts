/**
 * Test fixture for the controllers on the shared real cluster: installs agentland's CRDs, gives a test its
 * own namespace (enforcing the "restricted" Pod Security Standard, with a real JWKS ConfigMap for korokd),
 * and runs a controller set in-process — optionally behind a recording proxy so tests can count every
 * request the controllers make to the apiserver.
 */
import { afterAll, beforeAll } from "bun:test";
import { join } from "node:path";
import { exportJWK, generateKeyPair } from "jose";
import { type FaultProxy, startFaultProxy } from "../../../../e2e/harness/fault-proxy";
import { testCluster } from "../../../../e2e/harness/test-cluster";
import { GROUP } from "../../../api/group";
import { SANDBOX_JWKS_CONFIGMAP } from "../../../api/install-names";
import { SANDBOX_JWKS_KEY } from "../../../api/reserved-keys";
import { createKubeClient, type KubeClient } from "../../../kube/kube-client";
import { loadKubeconfigFile } from "../../../kube/kube-config";
import { isGone } from "../../../kube/kube-error";
import type { KubeObject } from "../../../kube/kube-object";
import type { ResourceType } from "../../../kube/resource-client";
import { createLogger, type LogLevel } from "../../../log/logger";
import { type ControllerSet, createControllerSet } from "../../manager/controller-set";

const ROOT = join(import.meta.dir, "../../../..");
export const cluster = testCluster();
export const API = "agentland.fl0rencess720.app/v1alpha1";
/**
 * The host-process node runs `agentland-fixtures/shell` as the host's /bin/sh: with this command it is a
 * tiny HTTP server on the sandbox port (Perl from the essential perl-base package: ~3 MB, starts in ~10 ms),
 * cheap enough for tests that start hundreds of sandboxes.
 */
export const SHELL_IMAGE = "agentland-fixtures/shell:1";
const HTTP_SERVER =
  "use IO::Socket::INET; my $s = IO::Socket::INET->new(LocalAddr => $ENV{POD_IP}, LocalPort => $ENV{PORT}, " +
  'Listen => 64, ReuseAddr => 1) or die "listen: $!"; ' +
  'while (my $c = $s->accept) { print $c "HTTP/1.0 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok"; close $c }';
export const HTTP_COMMAND = ["/usr/bin/perl", "-e", HTTP_SERVER];
export const KOROKD_IMAGE = "agentland/code-interpreter:0.1.0";

export async function kubectl(args: readonly string[], stdin?: string): Promise<string> {
  const r = await cluster.kubectl(args, stdin === undefined ? {} : { stdin });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

export async function kubectlJson<T = Record<string, unknown>>(args: readonly string[]): Promise<T> {
  return JSON.parse(await kubectl([...args, "-o", "json"])) as T;
}

export async function apply(...objects: object[]): Promise<void> {
  await kubectl(["apply", "-f", "-"], objects.map((o) => JSON.stringify(o)).join("\n"));
}

let crdsInstalled: Promise<void> | undefined;

export function installCrds(): Promise<void> {
  crdsInstalled ??= (async () => {
    const kinds = [
      "agentruntimes",
      "agentsessions",
      "codeinterpreters",
      "sandboxes",
      "sandboxclaims",
      "sandboxpools",
    ];
    for (const k of kinds) await kubectl(["apply", "-f", join(ROOT, `manifests/00-crd-${k}.yaml`)]);
    await kubectl(["wait", "--for=condition=Established", "crd", "--all", "--timeout=30s"]);
  })();
  return crdsInstalled;
}

/** A namespace enforcing "restricted" (the apiserver rejects any pod violating it) with a JWKS for korokd. */
export async function controllerNamespace(prefix: string): Promise<string> {
  await installCrds();
  const ns = await cluster.createNamespace(prefix, {
    labels: {
      "pod-security.kubernetes.io/enforce": "restricted",
      "pod-security.kubernetes.io/enforce-version": "latest",
    },
  });
  const { publicKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
  const jwk = { ...(await exportJWK(publicKey)), kid: "test-key", alg: "EdDSA", use: "sig" };
  await apply({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: SANDBOX_JWKS_CONFIGMAP, namespace: ns },
    data: { [SANDBOX_JWKS_KEY]: JSON.stringify({ keys: [jwk] }) },
  });
  return ns;
}

export function adminClient(server?: string): KubeClient {
  const config = loadKubeconfigFile(cluster.kubeconfig);
  const target = server ? { ...config, server, tls: { insecureSkipVerify: false } } : config;
  return createKubeClient(target, { qps: 0, userAgent: "agentland-controller-test" });
}

export interface RunningControllers {
  readonly set: ControllerSet;
  /** Present with `recordRequests`: every request the controllers made. */
  readonly proxy?: FaultProxy;
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly recordRequests?: boolean;
  readonly workers?: number;
  readonly logLevel?: LogLevel;
  /** Reconcile every cached object this often (default: the manager's). */
  readonly resyncMs?: number;
  /** false: fill the caches and run no controller (a test then asks the context itself). */
  readonly reconcile?: boolean;
}

export async function startControllers(ns: string, opts: StartOptions = {}): Promise<RunningControllers> {
  let proxy: FaultProxy | undefined;
  if (opts.recordRequests) {
    const { tls } = loadKubeconfigFile(cluster.kubeconfig);
    proxy = startFaultProxy({
      upstream: cluster.server,
      tls: { ca: tls.ca ?? "", cert: tls.cert ?? "", key: tls.key ?? "" },
    });
  }
  const set = createControllerSet({
    client: adminClient(proxy?.url),
    namespaces: [ns],
    settings: {
      jwksConfigMap: SANDBOX_JWKS_CONFIGMAP,
      codeInterpreterImage: KOROKD_IMAGE,
      codeInterpreterPool: "code-interpreter",
    },
    workers: opts.workers ?? 4,
    identity: "controller-test",
    log: createLogger("controllers-test", opts.logLevel ?? "error"),
    ...(opts.resyncMs ? { resyncMs: opts.resyncMs } : {}),
  });
  await set.start(undefined, { reconcile: opts.reconcile ?? true });
  return {
    set,
    ...(proxy ? { proxy } : {}),
    async stop() {
      await set.stop();
      await proxy?.stop();
    },
  };
}

export interface ControllerTestEnv {
  /** The file's namespace (read it inside tests: it exists once `beforeAll` has run). */
  readonly ns: string;
  readonly controllers: RunningControllers;
}

/**
 * Registers the usual setup of a controller test file: its own restricted namespace and a controller set
 * watching it, both removed after the file's last test.
 */
export function useControllers(prefix: string, opts: StartOptions = {}): ControllerTestEnv {
  let ns: string | undefined;
  let running: RunningControllers | undefined;
  beforeAll(async () => {
    ns = await controllerNamespace(prefix);
    running = await startControllers(ns, opts);
  }, 60_000);
  afterAll(async () => {
    await running?.stop();
    if (ns) await kubectl(["delete", "ns", ns, "--wait=false"]);
  }, 60_000);
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("useControllers: read before its beforeAll ran");
    return value;
  };
  return {
    get ns() {
      return ready(ns);
    },
    get controllers() {
      return ready(running);
    },
  };
}

/**
 * Runs `body` while the apiserver refuses to create any `resource` (plural, of agentland's group) in `ns`:
 * a ResourceQuota of 0, in force before `body` starts and removed after it.
 */
export async function whileRefused<T>(ns: string, resource: string, body: () => Promise<T>): Promise<T> {
  const quota = `no-${resource}`;
  await apply({
    apiVersion: "v1",
    kind: "ResourceQuota",
    metadata: { name: quota, namespace: ns },
    spec: { hard: { [`count/${resource}.${GROUP}`]: "0" } },
  });
  try {
    await eventually("quota in force", async () => {
      const hard = await kubectl(["-n", ns, "get", "resourcequota", quota, "-o", "jsonpath={.status.hard}"]);
      return hard.trim() !== "" ? true : undefined;
    });
    return await body();
  } finally {
    await kubectl(["-n", ns, "delete", "resourcequota", quota, "--ignore-not-found"]);
  }
}

/** Polls `probe` until it returns a value (not undefined). */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await Bun.sleep(100);
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last})` : ""}`,
  );
}

export const template = (image = SHELL_IMAGE, extra: Record<string, unknown> = {}) => ({
  image,
  ...(image === SHELL_IMAGE ? { command: HTTP_COMMAND, env: [{ name: "PORT", value: "8080" }] } : {}),
  port: 8080,
  resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
  ...extra,
});

export const pool = (
  ns: string,
  name: string,
  replicas: number,
  tmpl: Record<string, unknown> = template(),
) => ({
  apiVersion: API,
  kind: "SandboxPool",
  metadata: { name, namespace: ns },
  spec: { replicas, sandboxTemplate: tmpl },
});

export const claim = (ns: string, name: string, spec: Record<string, unknown>) => ({
  apiVersion: API,
  kind: "SandboxClaim",
  metadata: { name, namespace: ns },
  spec,
});

export interface Listed {
  metadata: {
    name: string;
    uid: string;
    labels?: Record<string, string>;
    ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[];
    deletionTimestamp?: string;
  };
  spec: Record<string, unknown> & { claimRef?: { name: string; uid?: string }; templateHash?: string };
  status?: Record<string, unknown> & {
    phase?: string;
    sandboxName?: string;
    podIP?: string;
    conditions?: { type: string; status: string; reason: string; message: string }[];
  };
}

export async function list(ns: string, resource: string, selector?: string): Promise<Listed[]> {
  const args = ["-n", ns, "get", resource, ...(selector ? ["-l", selector] : [])];
  return (await kubectlJson<{ items: Listed[] }>(args)).items;
}

export const condition = (obj: Listed | undefined, type: string) =>
  obj?.status?.conditions?.find((c) => c.type === type);

/** Records every version of every object of a kind in a namespace, from a watch, until stopped. */
export interface Recorder<T> {
  /** The objects listed when recording started. */
  readonly initial: readonly T[];
  /** Every version delivered since, in order (deletions included, as their last state). */
  readonly events: T[];
  stop(): Promise<void>;
}

export async function recordWatch<T extends object>(
  client: KubeClient,
  type: ResourceType<T>,
  ns: string,
): Promise<Recorder<T>> {
  const api = client.resource(type);
  const first = await api.list({ namespace: ns });
  const events: T[] = [];
  const stopper = new AbortController();
  // Watches until stopped, resuming from the last version seen whenever a stream ends, so no change is
  // missed over a long test (a relist would hide intermediate versions, so a 410 fails the recorder).
  const done = (async () => {
    let rv = first.resourceVersion;
    while (!stopper.signal.aborted) {
      const stream = await api.watch({
        namespace: ns,
        resourceVersion: rv,
        allowWatchBookmarks: true,
        timeoutSeconds: 300,
        signal: stopper.signal,
      });
      try {
        for await (const e of stream) {
          rv = (e.object as KubeObject).metadata?.resourceVersion ?? rv;
          if (e.type !== "BOOKMARK") events.push(e.object as T);
        }
      } catch (err) {
        if (!stopper.signal.aborted && isGone(err)) throw err;
      }
    }
  })();
  return {
    initial: first.items,
    events,
    async stop() {
      stopper.abort();
      await done.catch((err: unknown) => {
        if (!stopper.signal.aborted || isGone(err)) throw err;
      });
    },
  };
}
