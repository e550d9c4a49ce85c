/** A session CR as the RPC API shows it. Only fields from the CR's status ever name a pod address. */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { LABELS } from "../../api/reserved-keys";
import { type Session, SessionSchema } from "../../gen/agentland/agentcore/v1/agentcore_pb";
import type { SessionKindInfo, SessionObject } from "./session-kinds";
import { readiness } from "./session-readiness";

const ts = (iso: string | undefined) => (iso ? timestampFromDate(new Date(iso)) : undefined);

export function toProtoSession(kind: SessionKindInfo, obj: SessionObject, principal: string): Session {
  const status = obj.status ?? {};
  const namespace = obj.metadata.namespace ?? "";
  const state = readiness(obj);
  const runtime = "runtimeRef" in obj.spec ? obj.spec.runtimeRef : undefined;
  const deleting = obj.metadata.deletionTimestamp !== undefined;
  return create(SessionSchema, {
    id: obj.metadata.name ?? "",
    namespace,
    kind: kind.proto,
    principal,
    phase: deleting ? "Terminating" : (status.phase ?? "Pending"),
    podName: status.podName ?? "",
    podIp: status.podIP ?? "",
    port: status.port ?? 0,
    podIdentity: status.podName ? `${namespace}/${status.podName}` : "",
    sandboxName: status.sandboxName ?? "",
    claimName: status.claimName ?? "",
    runtimeName: runtime?.name ?? "",
    runtimeNamespace: runtime?.namespace ?? (runtime ? namespace : ""),
    createdAt: ts(obj.metadata.creationTimestamp),
    lastActivityAt: ts(status.lastActivityTime),
    expiresAt: ts(status.expiresAt),
    warm: obj.metadata.labels?.[LABELS.claim] !== undefined || status.claimName !== undefined,
    message: state.state === "ready" ? "" : state.message,
  });
}
