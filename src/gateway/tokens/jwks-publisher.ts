/**
 * Publishes the gateway's public keys as a ConfigMap (`jwks.json`) in every sandbox namespace, where
 * korokd (and agents that want to) mount and verify against it. Idempotent: an unchanged JWKS writes
 * nothing, and every replica computes the same text from the same Secret, so replicas never fight.
 */
import type { V1ConfigMap } from "@kubernetes/client-node";
import type { KubeClient } from "../../kube/kube-client";
import { isAlreadyExists, isConflict, isNotFound } from "../../kube/kube-error";
import type { Wire } from "../../kube/kube-object";
import { CONFIG_MAPS } from "../../kube/resources";
import type { Logger } from "../../log/logger";
import { describeError } from "../describe-error";

export const JWKS_KEY = "jwks.json";

export interface JwksPublication {
  readonly kube: KubeClient;
  readonly name: string;
  readonly namespaces: readonly string[];
  readonly log: Logger;
}

/** Returns the namespaces whose ConfigMap now holds `jwksText`. */
export async function publishJwks(
  pub: JwksPublication,
  jwksText: string,
  signal?: AbortSignal,
): Promise<string[]> {
  const results = await Promise.all(pub.namespaces.map((ns) => publishOne(pub, ns, jwksText, signal)));
  return pub.namespaces.filter((_, i) => results[i]);
}

async function publishOne(
  pub: JwksPublication,
  namespace: string,
  jwksText: string,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  const configMaps = pub.kube.resource(CONFIG_MAPS);
  const call = { namespace, timeoutMs: 10_000, ...(signal ? { signal } : {}) };
  try {
    let existing: Wire<V1ConfigMap> | undefined;
    try {
      existing = await configMaps.get(pub.name, call);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (existing?.data?.[JWKS_KEY] === jwksText) return true;
    if (existing === undefined) {
      await configMaps.create(desired(pub.name, namespace, jwksText), call);
    } else {
      // The resourceVersion makes this a compare-and-swap: a concurrent writer wins, we retry next sync.
      await configMaps.update({ ...existing, data: { ...existing.data, [JWKS_KEY]: jwksText } }, call);
    }
    pub.log.info("jwks published", { namespace, configmap: pub.name });
    return true;
  } catch (err) {
    if (isAlreadyExists(err) || isConflict(err)) return false;
    pub.log.warn("jwks publication failed", { namespace, configmap: pub.name, error: describeError(err) });
    return false;
  }
}

function desired(name: string, namespace: string, jwksText: string): Wire<V1ConfigMap> {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name,
      namespace,
      labels: {
        "app.kubernetes.io/managed-by": "agentland-gateway",
        "app.kubernetes.io/part-of": "agentland",
      },
    },
    data: { [JWKS_KEY]: jwksText },
  };
}
