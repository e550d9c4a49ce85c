/**
 * The hops under the gateway, reached without it, for side-by-side baselines: AgentCore's RPC (the same
 * client and transport the gateway uses, Connect over HTTP/2) and a korokd pod's own API with a token
 * minted from the gateway's signing key Secret (read with the admin credential, exactly the key the gateway
 * signs with, so korokd checks it as it would the gateway's).
 */
import { createAgentcoreClient } from "../../../src/gateway/agentcore/agentcore-client";
import { createSigningKeyStore } from "../../../src/gateway/tokens/signing-key-store";
import { createTokenMinter } from "../../../src/gateway/tokens/token-minter";
import { systemClock } from "../../../src/kube/clock";
import type { KubeClient } from "../../../src/kube/kube-client";
import { silentLogger } from "../../../src/log/logger";

export interface SandboxTarget {
  readonly sessionId: string;
  readonly url: string;
  /** `namespace/pod`, the token audience korokd expects. */
  readonly identity: string;
}

export interface SandboxAccess {
  readonly agentcore: ReturnType<typeof createAgentcoreClient>;
  /** A fresh token for one call to `target` (minting stays outside the timed part). */
  token(target: SandboxTarget): string;
  stop(): void;
}

/**
 * A token minter on the gateway's own signing key Secret (read only: nothing is due on a key set this
 * young), so korokd checks its tokens exactly as it checks the gateway's.
 */
export async function gatewayMinter(
  kube: KubeClient,
  systemNamespace: string,
): Promise<{ minter: ReturnType<typeof createTokenMinter>; stop(): void }> {
  const keys = createSigningKeyStore({
    kube: kube,
    namespace: systemNamespace,
    secretName: "agentland-gateway-signing-keys",
    jwksConfigMap: "agentland-sandbox-jwks",
    sandboxNamespaces: [],
    // The gateway's defaults.
    policy: {
      rotationIntervalMs: 86_400_000,
      propagationDelayMs: 15_000,
      tokenLifetimeMs: 60_000,
      clockSkewMs: 5_000,
    },
    clock: systemClock,
    log: silentLogger,
    syncIntervalMs: 3_600_000,
  });
  await keys.sync();
  const minter = createTokenMinter({
    keys,
    issuer: "agentland-gateway",
    lifetimeMs: 60_000,
    clock: systemClock,
  });
  return { minter, stop: () => keys.stop() };
}

export async function createSandboxAccess(opts: {
  kube: KubeClient;
  systemNamespace: string;
  agentcoreUrl: string;
}): Promise<SandboxAccess> {
  const { minter, stop: stopKeys } = await gatewayMinter(opts.kube, opts.systemNamespace);
  const agentcore = createAgentcoreClient({
    baseUrl: opts.agentcoreUrl,
    createTimeoutMs: 60_000,
    callTimeoutMs: 5_000,
  });
  return {
    agentcore,
    token: (t) => minter.mint({ audience: t.identity, sessionId: t.sessionId }),
    stop() {
      stopKeys();
      agentcore.close();
    },
  };
}

/** POSTs a run to korokd or the gateway and checks the answer; resolves to the elapsed milliseconds. */
export async function timedRun(url: string, headers: Record<string, string>, body: string): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(url, { method: "POST", headers, body });
  const text = await res.text();
  const elapsed = performance.now() - t0;
  let stdout: unknown;
  try {
    stdout = (JSON.parse(text) as { stdout?: unknown }).stdout;
  } catch {
    stdout = undefined;
  }
  if (stdout !== "2\n") throw new Error(`run answered ${res.status}: ${text.slice(0, 300)}`);
  return elapsed;
}
