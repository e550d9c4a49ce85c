/**
 * Sessions this replica created and answered with before its own watch showed them (a warm create answered
 * from its reservation: the POST's and the reservation's responses, not the watch). The session cache
 * serves them until the watch shows the object, so a client's next Get or Delete on this replica finds
 * the session it was just given. Purely an accelerator: every entry is an object the apiserver accepted.
 */
import type { Clock } from "../../kube/clock";
import type { SessionKindInfo, SessionObject } from "./session-kinds";

/** A created object the watch has not shown stands in for it at most this long. */
const CREATED_TTL_MS = 30_000;

export interface NotedCreates {
  add(kind: SessionKindInfo, obj: SessionObject): void;
  forget(kind: SessionKindInfo, obj: SessionObject): void;
  /** The noted object, while the watch shows nothing of that name and its TTL lasts. */
  get(kind: SessionKindInfo, namespace: string, name: string): SessionObject | undefined;
  list(): Array<{ kind: SessionKindInfo; obj: SessionObject }>;
}

/** Created objects this replica answered with before its watch showed them (see `noteCreated`). */
export function createNotedCreates(
  clock: Clock,
  cached: (kind: SessionKindInfo, namespace: string, name: string) => SessionObject | undefined,
): NotedCreates {
  const noted = new Map<string, { kind: SessionKindInfo; obj: SessionObject; until: number }>();
  const keyOf = (kind: SessionKindInfo, namespace: string, name: string) =>
    `${kind.kind}/${namespace}/${name}`;
  const live = (key: string) => {
    const e = noted.get(key);
    if (!e) return undefined;
    const { namespace = "", name = "" } = e.obj.metadata;
    if (clock.monotonic() >= e.until || cached(e.kind, namespace, name) !== undefined) {
      noted.delete(key);
      return undefined;
    }
    return e;
  };
  return {
    add(kind, obj) {
      for (const key of [...noted.keys()]) live(key);
      const { namespace = "", name = "" } = obj.metadata;
      noted.set(keyOf(kind, namespace, name), { kind, obj, until: clock.monotonic() + CREATED_TTL_MS });
    },
    forget: (kind, obj) =>
      void noted.delete(keyOf(kind, obj.metadata.namespace ?? "", obj.metadata.name ?? "")),
    get: (kind, namespace, name) => live(keyOf(kind, namespace, name))?.obj,
    list: () =>
      [...noted.keys()].flatMap((key) => {
        const e = live(key);
        return e ? [{ kind: e.kind, obj: e.obj }] : [];
      }),
  };
}
