/**
 * Korokd's one error type. Every failure a client can see carries a stable machine `code`; the HTTP
 * status for each code lives only in `STATUS` below. `cause` is for logs and never reaches a client.
 */

const STATUS = {
  invalid_request: 400,
  unsupported_language: 400,
  context_language_mismatch: 400,
  token_missing: 401,
  token_invalid: 401,
  token_expired: 401,
  token_wrong_audience: 401,
  token_replayed: 401,
  not_found: 404,
  context_not_found: 404,
  context_busy: 409,
  body_too_large: 413,
  too_many_runs: 429,
  too_many_contexts: 429,
  internal: 500,
  not_ready: 503,
  overloaded: 503,
} as const;

export type KorokdErrorCode = keyof typeof STATUS;
export type KorokdErrorStatus = (typeof STATUS)[KorokdErrorCode];

export class KorokdError extends Error {
  override readonly name = "KorokdError";
  readonly status: KorokdErrorStatus;

  constructor(
    readonly code: KorokdErrorCode,
    message: string,
    options?: { cause?: unknown; retryAfterSeconds?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.status = STATUS[code];
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }

  readonly retryAfterSeconds: number | undefined;

  /** The JSON body every korokd error response has. */
  toBody(): { error: { code: KorokdErrorCode; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}
