/**
 * What the node agent asks of the apiserver, over the project's kube client and the node's own
 * credential (system:node:<name>, so the Node authorizer and NodeRestriction limit it like a kubelet):
 * pod status patches, the final delete, Secrets/ConfigMaps of its pods, and ServiceAccount tokens
 * bound to its pods (TokenRequest).
 */
import type { KubeClient } from "../../src/kube/kube-client";
import { isConflict, isNotFound } from "../../src/kube/kube-error";
import { CONFIG_MAPS, PODS, SECRETS } from "../../src/kube/resources";
import type { ConfigMap, ObjectSource, Pod, PodStatus, Secret } from "./pod-types";
import type { IssuedToken, TokenIssuer } from "./pod-volumes";

const CALL_TIMEOUT_MS = 10_000;

/**
 * A strategic-merge patch of the status the agent owns: conditions merge by type (PodScheduled and
 * readiness-gate conditions written by others stay; a condition's absent reason/message is sent as
 * null so an old one is removed), container status lists are atomic and so replaced whole, and the
 * pod's UID in the patch makes a recreated pod of the same name refuse it.
 */
export function statusPatch(uid: string, status: PodStatus): object {
  return {
    metadata: { uid },
    status: {
      ...status,
      conditions: status.conditions?.map((c) => ({
        ...c,
        reason: c.reason ?? null,
        message: c.message ?? null,
      })),
    },
  };
}

/**
 * Reads of one Secret/ConfigMap within this long share one GET. Every pod re-reads its volume sources
 * each resync: 200 pods mounting the same JWKS ConfigMap made ~20 GETs/s of identical answers; shared,
 * that is at most one per object per window, and a change still arrives within resync + window (the
 * kubelet's own watch/TTL cache makes the same trade).
 */
export const SHARED_READ_MS = 1_000;

export function createObjectSource(
  client: KubeClient,
  opts: { sharedReadMs?: number; now?: () => number } = {},
): ObjectSource {
  const windowMs = opts.sharedReadMs ?? SHARED_READ_MS;
  const now = opts.now ?? (() => performance.now());
  const recent = new Map<string, { readonly at: number; readonly value: Promise<unknown> }>();
  const fetchOne = async (type: typeof SECRETS | typeof CONFIG_MAPS, ns: string, name: string) => {
    try {
      return await client.resource(type).get(name, { namespace: ns, timeoutMs: CALL_TIMEOUT_MS });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };
  /** The shared read runs without any one caller's signal; each caller stops waiting on its own. */
  const get = <T>(
    type: typeof SECRETS | typeof CONFIG_MAPS,
    ns: string,
    name: string,
    signal?: AbortSignal,
  ): Promise<T | undefined> => {
    const key = `${type.plural}/${ns}/${name}`;
    const t = now();
    let entry = recent.get(key);
    if (entry === undefined || t - entry.at >= windowMs) {
      for (const [k, e] of recent) if (t - e.at >= windowMs) recent.delete(k);
      const value = fetchOne(type, ns, name);
      const made = { at: t, value };
      entry = made;
      recent.set(key, made);
      // A failed read is not shared beyond the callers already waiting on it.
      value.catch(() => recent.get(key) === made && recent.delete(key));
    }
    return abortable(entry.value as Promise<T | undefined>, signal);
  };
  return {
    secret: (ns, name, signal) => get<Secret>(SECRETS, ns, name, signal),
    configMap: (ns, name, signal) => get<ConfigMap>(CONFIG_MAPS, ns, name, signal),
  };
}

function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

export function createTokenIssuer(client: KubeClient, now: () => number = Date.now): TokenIssuer {
  return {
    async issue(pod, audience, expirationSeconds, signal) {
      const ns = pod.metadata?.namespace ?? "default";
      const sa = pod.spec?.serviceAccountName || "default";
      const res = await client.request<{ status?: { token?: string; expirationTimestamp?: string } }>({
        method: "POST",
        path: `/api/v1/namespaces/${encodeURIComponent(ns)}/serviceaccounts/${encodeURIComponent(sa)}/token`,
        body: {
          apiVersion: "authentication.k8s.io/v1",
          kind: "TokenRequest",
          spec: {
            audiences: audience ? [audience] : [],
            expirationSeconds,
            boundObjectRef: {
              apiVersion: "v1",
              kind: "Pod",
              name: pod.metadata?.name,
              uid: pod.metadata?.uid,
            },
          },
        },
        timeoutMs: CALL_TIMEOUT_MS,
        ...(signal ? { signal } : {}),
      });
      const token = res.status?.token;
      if (!token) throw new Error(`TokenRequest for ${ns}/${sa} returned no token`);
      const expires = Date.parse(res.status?.expirationTimestamp ?? "");
      const issued: IssuedToken = {
        token,
        expiresAt: Number.isNaN(expires) ? now() + expirationSeconds * 1000 : expires,
      };
      return issued;
    },
  };
}

export async function patchPodStatus(
  client: KubeClient,
  pod: Pod,
  status: PodStatus,
  signal: AbortSignal,
): Promise<Pod> {
  return client.resource(PODS).patchStatus(pod.metadata?.name ?? "", {
    namespace: pod.metadata?.namespace,
    type: "strategic",
    patch: statusPatch(pod.metadata?.uid ?? "", status),
    signal,
    timeoutMs: CALL_TIMEOUT_MS,
  });
}

/** The kubelet's last word on a pod: delete with grace 0, only if it is still the same pod (UID). */
export async function finalDelete(client: KubeClient, pod: Pod): Promise<void> {
  try {
    await client.resource(PODS).delete(pod.metadata?.name ?? "", {
      namespace: pod.metadata?.namespace,
      gracePeriodSeconds: 0,
      preconditions: { uid: pod.metadata?.uid ?? "" },
      timeoutMs: CALL_TIMEOUT_MS,
    });
  } catch (err) {
    // Gone already, or the name now belongs to a new pod (UID precondition failed): nothing to delete.
    if (!isNotFound(err) && !isConflict(err)) throw err;
  }
}
