/**
 * Reads the platform's state the benchmark waits on or reports: the warm pool's size and availability,
 * the pods of a component with their addresses, the AgentCore leader, and the gateways' warm-start counts.
 */
import { LABELS } from "../../../src/api/reserved-keys";
import { CODE_INTERPRETERS, SANDBOX_POOLS, SANDBOXES } from "../../../src/api/resource-types";
import type { KubeClient } from "../../../src/kube/kube-client";
import { PODS } from "../../../src/kube/resources";

export interface PodInfo {
  readonly name: string;
  readonly ip: string;
  readonly ready: boolean;
  readonly image: string;
}

export async function podsOf(kube: KubeClient, namespace: string, selector = ""): Promise<PodInfo[]> {
  const { items } = await kube
    .resource(PODS)
    .list({ namespace, timeoutMs: 60_000, ...(selector ? { labelSelector: selector } : {}) });
  return items
    .filter((p) => !p.metadata?.deletionTimestamp)
    .map((p) => ({
      name: p.metadata?.name ?? "",
      ip: p.status?.podIP ?? "",
      ready: p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false,
      image: p.spec?.containers[0]?.image ?? "",
    }));
}

/** Numeric order of dotted IPv4 addresses; the node's Service names resolve to the lowest Ready one. */
export function byIp(a: PodInfo, b: PodInfo): number {
  const n = (ip: string) => ip.split(".").reduce((acc, part) => acc * 256 + Number(part), 0);
  return n(a.ip) - n(b.ip);
}

export async function poolState(kube: KubeClient, namespace: string, name: string) {
  const pool = await kube.resource(SANDBOX_POOLS).get(name, { namespace, timeoutMs: 30_000 });
  return { replicas: pool.spec.replicas ?? 0, available: pool.status?.availableReplicas ?? 0 };
}

export async function scalePool(kube: KubeClient, namespace: string, name: string, replicas: number) {
  await kube.resource(SANDBOX_POOLS).patch(name, { namespace, type: "merge", patch: { spec: { replicas } } });
}

const sessionSandboxes = (kube: KubeClient, namespace: string, session: string) =>
  kube
    .resource(SANDBOXES)
    .list({ namespace, labelSelector: `${LABELS.claim}=${session}`, timeoutMs: 30_000 })
    .then(({ items }) => items.map((s) => s.metadata.name ?? ""));

/**
 * Deletes a session with `remove` and waits until its sandbox and that sandbox's pod are gone (its teardown
 * over), or throws after `timeoutMs`: the next measured session should not share the cores with this
 * one's pod being stopped.
 */
export async function deleteSessionAndWait(
  kube: KubeClient,
  namespace: string,
  session: string,
  remove: () => Promise<unknown>,
  timeoutMs: number,
) {
  const deadline = performance.now() + timeoutMs;
  const sandboxes = await sessionSandboxes(kube, namespace, session);
  await remove();
  const podSelector = `${LABELS.sandbox} in (${sandboxes.join(",")})`;
  for (;;) {
    const left = await sessionSandboxes(kube, namespace, session);
    const pods = sandboxes.length
      ? (await kube.resource(PODS).list({ namespace, labelSelector: podSelector, timeoutMs: 30_000 })).items
      : [];
    if (left.length === 0 && pods.length === 0) return;
    if (performance.now() > deadline)
      throw new Error(`session ${session}: sandbox or pod still there after ${timeoutMs} ms`);
    await Bun.sleep(50);
  }
}

/** Waits until every replica of the pool is available (a warm pool at rest), or throws after `timeoutMs`. */
export async function waitPoolFull(kube: KubeClient, namespace: string, name: string, timeoutMs: number) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const { replicas, available } = await poolState(kube, namespace, name);
    if (available >= replicas) return;
    if (performance.now() > deadline)
      throw new Error(`pool ${name}: ${available}/${replicas} available after ${timeoutMs} ms`);
    await Bun.sleep(50);
  }
}

/** Where a session's sandbox listens and who it is, from the CodeInterpreter's status. */
export async function sessionPod(kube: KubeClient, namespace: string, session: string) {
  const ci = await kube.resource(CODE_INTERPRETERS).get(session, { namespace });
  const { podIP, podName, port } = ci.status ?? {};
  if (!podIP || !podName) throw new Error(`session ${session} has no pod in its status`);
  return { url: `http://${podIP}:${port ?? 1883}`, identity: `${namespace}/${podName}`, sessionId: session };
}

/** Sessions the gateways created from a warm pool vs. in all, summed over the gateways' /metrics. */
export async function warmStarts(gatewayUrls: readonly string[]): Promise<{ warm: number; all: number }> {
  let warm = 0;
  let all = 0;
  for (const url of gatewayUrls) {
    const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
    for (const m of text.matchAll(/^agentland_gateway_sessions_created_total\{([^}]*)\} (\d+)$/gm)) {
      if (!m[1]?.includes('kind="code-interpreter"')) continue;
      all += Number(m[2]);
      if (m[1].includes('warm="true"')) warm += Number(m[2]);
    }
  }
  return { warm, all };
}

/** Reconciles per controller so far on an AgentCore replica: count and total seconds (from its /metrics). */
export async function reconcileTotals(url: string): Promise<Map<string, { count: number; seconds: number }>> {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  const out = new Map<string, { count: number; seconds: number }>();
  for (const m of text.matchAll(
    /^agentland_controller_reconcile_seconds_(sum|count)\{controller="([^"]+)"\} (\S+)$/gm,
  )) {
    const c = out.get(m[2] ?? "") ?? { count: 0, seconds: 0 };
    if (m[1] === "sum") c.seconds = Number(m[3]);
    else c.count = Number(m[3]);
    out.set(m[2] ?? "", c);
  }
  return out;
}
