/** The one place AgentCore errors become Connect errors. Unknown errors become `Internal` with no detail. */
import { Code, ConnectError } from "@connectrpc/connect";
import { AgentcoreError, type AgentcoreErrorCode } from "../agentcore-error";

const CODES: Record<AgentcoreErrorCode, Code> = {
  invalid_argument: Code.InvalidArgument,
  not_found: Code.NotFound,
  permission_denied: Code.PermissionDenied,
  resource_exhausted: Code.ResourceExhausted,
  deadline_exceeded: Code.DeadlineExceeded,
  failed_precondition: Code.FailedPrecondition,
  canceled: Code.Canceled,
  unavailable: Code.Unavailable,
  internal: Code.Internal,
};

export function toConnectError(err: unknown): ConnectError {
  if (err instanceof ConnectError) return err;
  if (err instanceof AgentcoreError)
    return new ConnectError(err.message, CODES[err.code], undefined, undefined, err);
  return new ConnectError("internal error", Code.Internal, undefined, undefined, err);
}
