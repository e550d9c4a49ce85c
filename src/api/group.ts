/**
 * agentland's API group. Every custom resource lives in this one group/version; RBAC rules, CRD names and
 * `apiVersion` fields are all derived from these constants so they cannot drift apart.
 */

export const GROUP = "agentland.fl0rencess720.app";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;

/** `kubectl get agentland` lists every agentland resource through this category. */
export const CATEGORY = "agentland";

/** Names a kind has in the API: what `apiVersion`/`kind`, URLs, RBAC rules and `kubectl` use. */
export interface KindNames {
  readonly group: typeof GROUP;
  readonly version: typeof VERSION;
  readonly apiVersion: typeof API_VERSION;
  readonly kind: string;
  readonly listKind: string;
  /** The resource name in URLs and RBAC rules, e.g. `codeinterpreters`. */
  readonly plural: string;
  readonly singular: string;
  readonly shortNames: readonly string[];
}

export function kindNames<const K extends string, const P extends string>(
  kind: K,
  plural: P,
  shortName: string,
): KindNames & { readonly kind: K; readonly plural: P } {
  return {
    group: GROUP,
    version: VERSION,
    apiVersion: API_VERSION,
    kind,
    listKind: `${kind}List`,
    plural,
    singular: kind.toLowerCase(),
    shortNames: [shortName],
  };
}

/** The path of a kind's collection on the apiserver, namespaced (all agentland kinds are namespaced). */
export function collectionPath(names: KindNames, namespace?: string): string {
  const ns = namespace === undefined ? "" : `/namespaces/${encodeURIComponent(namespace)}`;
  return `/apis/${names.group}/${names.version}${ns}/${names.plural}`;
}
