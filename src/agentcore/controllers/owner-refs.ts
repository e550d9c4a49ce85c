/** Owner references: who controls an object, and the reference a controller puts on what it creates. */
import { API_VERSION } from "../../api/group";
import type { OwnerReference } from "../../api/object-meta";

interface WithMeta {
  readonly metadata?:
    | {
        readonly name?: string | undefined;
        readonly uid?: string | undefined;
        readonly ownerReferences?: readonly OwnerReference[] | undefined;
      }
    | undefined;
}

/** The controlling owner reference (at most one exists, the apiserver enforces it). */
export function controllerOf(obj: WithMeta | undefined): OwnerReference | undefined {
  return obj?.metadata?.ownerReferences?.find((r) => r.controller === true);
}

export function isControlledBy(obj: WithMeta | undefined, owner: WithMeta): boolean {
  const ref = controllerOf(obj);
  return ref !== undefined && ref.uid === owner.metadata?.uid;
}

/**
 * A controller reference to an agentland object. `blockOwnerDeletion` makes foreground deletion of the owner
 * wait for this dependent, so "session deleted" means "its claim, sandbox and pod are gone".
 */
export function controllerRef(kind: string, owner: WithMeta): OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind,
    name: owner.metadata?.name ?? "",
    uid: owner.metadata?.uid ?? "",
    controller: true,
    blockOwnerDeletion: true,
  };
}
