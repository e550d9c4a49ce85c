/**
 * Hands a session CR this replica just created to this replica's own (leading) controllers: the write memo
 * serves the created object until the informer shows it, and the session's controller is queued at once.
 * Purely an accelerator, like the controllers' own kicks: the object is exactly what the apiserver
 * accepted, and the leader's watch delivers it anyway a moment later. Followers have nothing to hand over
 * to; their sessions reach the leader through its watch.
 */
import { memoKey } from "../controllers/controller-context";
import type { ControllerSet } from "../manager/controller-set";
import { CODE_INTERPRETER_KIND, type SessionKindInfo, type SessionObject } from "./session-kinds";

/** `obj` was created (`deleted` false) or deleted by this replica. */
export function handOver(
  set: ControllerSet,
  kind: SessionKindInfo,
  obj: SessionObject,
  deleted = false,
): void {
  const { namespace = "", name = "" } = obj.metadata;
  const key = memoKey(kind.kind, namespace, name);
  if (deleted) set.context.memo.remember(key, obj, undefined);
  else set.context.memo.remember(key, undefined, obj);
  set.context.kick(
    kind === CODE_INTERPRETER_KIND ? "codeInterpreter" : "agentSession",
    `${namespace}/${name}`,
  );
}
