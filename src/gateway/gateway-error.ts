/**
 * The gateway's one error type. Every failure a client can see carries a stable machine `code`; the HTTP
 * status of each code lives only in `STATUS` below, and `on-error.ts` is the only place that turns an
 * error into a response. `cause` is for logs and never reaches a client.
 */

const STATUS = {
  invalid_json: 400,
  invalid_request: 400,
  runtime_required: 400,
  api_key_missing: 401,
  api_key_invalid: 401,
  namespace_not_allowed: 403,
  not_found: 404,
  session_not_found: 404,
  runtime_not_found: 404,
  method_not_allowed: 405,
  body_too_large: 413,
  quota_exceeded: 429,
  internal: 500,
  sandbox_unreachable: 502,
  sandbox_rejected_token: 502,
  upstream_failed: 502,
  session_not_ready: 503,
  capacity_exhausted: 503,
  agentcore_unavailable: 503,
  not_ready: 503,
  upstream_timeout: 504,
  session_start_timeout: 504,
} as const;

export type GatewayErrorCode = keyof typeof STATUS;
export type GatewayErrorStatus = (typeof STATUS)[GatewayErrorCode];

export interface GatewayErrorOptions {
  readonly cause?: unknown;
  /** Sent as `Retry-After` (RFC 9110 §10.2.3) with 429 and 503 answers. */
  readonly retryAfterSeconds?: number;
  /** The session the failed request belonged to, echoed in `x-agentland-session`. */
  readonly sessionId?: string;
}

export class GatewayError extends Error {
  override readonly name = "GatewayError";
  readonly status: GatewayErrorStatus;
  readonly retryAfterSeconds: number | undefined;
  readonly sessionId: string | undefined;

  constructor(
    readonly code: GatewayErrorCode,
    message: string,
    options: GatewayErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = STATUS[code];
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.sessionId = options.sessionId;
  }
}

export function statusOf(code: GatewayErrorCode): GatewayErrorStatus {
  return STATUS[code];
}
