/**
 * AgentCore's Connect codes → gateway errors. Which code means what is AgentCore's contract: NotFound for
 * unknown (or foreign) sessions and runtimes, PermissionDenied for a namespace off the allow-list,
 * ResourceExhausted when no sandbox can be had, DeadlineExceeded when the sandbox was not Ready in time,
 * InvalidArgument for a bad request. Anything else means AgentCore is not usable right now.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { GatewayError } from "../gateway-error";

/** What the failed call was about, to pick the right NotFound code. */
export type CallSubject = "create" | "create-agent" | "session";

export function isNotFoundError(err: unknown): boolean {
  return err instanceof ConnectError && err.code === Code.NotFound;
}

export function fromAgentcoreError(err: unknown, subject: CallSubject): GatewayError {
  if (err instanceof GatewayError) return err;
  const connect = ConnectError.from(err);
  const detail = connect.rawMessage;
  switch (connect.code) {
    case Code.NotFound:
      return subject === "create-agent"
        ? new GatewayError("runtime_not_found", detail || "the agent runtime does not exist", { cause: err })
        : new GatewayError("session_not_found", "no such session", { cause: err });
    case Code.PermissionDenied:
      return new GatewayError("namespace_not_allowed", detail || "the namespace is not allowed", {
        cause: err,
      });
    case Code.InvalidArgument:
    case Code.FailedPrecondition:
      return new GatewayError("invalid_request", detail || "AgentCore rejected the request", { cause: err });
    case Code.ResourceExhausted:
      return new GatewayError("capacity_exhausted", detail || "no sandbox is available right now", {
        cause: err,
        retryAfterSeconds: 5,
      });
    case Code.DeadlineExceeded:
      return subject === "session"
        ? unavailable(err)
        : new GatewayError("session_start_timeout", detail || "the sandbox did not become ready in time", {
            cause: err,
          });
    default:
      return unavailable(err);
  }
}

function unavailable(cause: unknown): GatewayError {
  return new GatewayError("agentcore_unavailable", "the session service is unavailable, retry shortly", {
    cause,
    retryAfterSeconds: 1,
  });
}
