/**
 * AgentCore's one error type. `code` is what went wrong in the caller's terms; `rpc/to-connect-error.ts`
 * is the only place that maps it to a Connect code. `cause` is kept for logs and never sent to clients.
 */
export type AgentcoreErrorCode =
  | "invalid_argument"
  | "not_found"
  | "permission_denied"
  | "resource_exhausted"
  | "deadline_exceeded"
  | "failed_precondition"
  | "canceled"
  | "unavailable"
  | "internal";

export class AgentcoreError extends Error {
  override readonly name = "AgentcoreError";
  constructor(
    readonly code: AgentcoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
