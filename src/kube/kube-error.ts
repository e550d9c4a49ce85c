/**
 * The one error type of the Kubernetes client. Errors answered by the apiserver carry its `metav1.Status`
 * (`code` = HTTP status, `reason` = StatusReason, field `causes`); failures on our side use code 0 and one
 * of the client reasons below, so callers branch on `reason`/helpers and never on message text.
 */

/** Client-side reasons (code 0): no usable answer came from the apiserver. */
export type ClientReason =
  | "NetworkError" // connection refused/reset, TLS failure, stream broken
  | "DeadlineExceeded" // the call's deadline (or a watch's inactivity timeout) passed
  | "Aborted" // the caller's AbortSignal fired
  | "BadResponse" // the apiserver answered something that is not the JSON we expect
  | "BadRequest"; // the call was malformed before sending (e.g. a namespaced call without a namespace)

export interface KubeErrorCause {
  readonly reason?: string;
  readonly message?: string;
  readonly field?: string;
}

export interface KubeErrorDetails {
  readonly name?: string;
  readonly group?: string;
  readonly kind?: string;
  readonly uid?: string;
  readonly retryAfterSeconds?: number;
}

export interface KubeErrorInit {
  readonly code: number;
  readonly reason: string;
  readonly causes?: readonly KubeErrorCause[];
  readonly details?: KubeErrorDetails;
  /** `METHOD path` of the request that failed, for logs. */
  readonly request?: string;
  /** Server-requested wait before retrying (Retry-After), in ms. */
  readonly retryAfterMs?: number;
  readonly cause?: unknown;
}

export class KubeError extends Error {
  override readonly name = "KubeError";
  readonly code: number;
  readonly reason: string;
  readonly causes: readonly KubeErrorCause[];
  readonly details: KubeErrorDetails | undefined;
  readonly request: string | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(message: string, init: KubeErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.reason = init.reason;
    this.causes = init.causes ?? [];
    this.details = init.details;
    this.request = init.request;
    this.retryAfterMs = init.retryAfterMs;
  }
}

/** Status reasons → HTTP codes, for the rare answer whose Status lacks a code. */
const REASON_BY_CODE: Readonly<Record<number, string>> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  405: "MethodNotAllowed",
  406: "NotAcceptable",
  409: "Conflict",
  410: "Gone",
  413: "RequestEntityTooLarge",
  415: "UnsupportedMediaType",
  422: "Invalid",
  429: "TooManyRequests",
  500: "InternalError",
  503: "ServiceUnavailable",
  504: "Timeout",
};

/** Builds the error from an apiserver answer: a `metav1.Status` body when there is one, else the bare code. */
export function kubeErrorFromStatus(
  httpCode: number,
  body: unknown,
  request: string,
  retryAfterMs?: number,
): KubeError {
  const status = isStatus(body) ? body : undefined;
  const code = typeof status?.code === "number" && status.code > 0 ? status.code : httpCode;
  const reason = status?.reason || REASON_BY_CODE[code] || (code >= 500 ? "InternalError" : "Unknown");
  const message = status?.message || `${request}: HTTP ${httpCode}`;
  return new KubeError(message, {
    code,
    reason,
    causes: status?.details?.causes ?? [],
    ...(status?.details ? { details: status.details } : {}),
    request,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });
}

interface StatusBody {
  kind: "Status";
  code?: number;
  reason?: string;
  message?: string;
  details?: KubeErrorDetails & { causes?: KubeErrorCause[] };
}

export function isStatus(body: unknown): body is StatusBody {
  return typeof body === "object" && body !== null && (body as { kind?: unknown }).kind === "Status";
}

const has = (err: unknown, code: number, reason?: string): boolean =>
  err instanceof KubeError && (err.code === code || (reason !== undefined && err.reason === reason));

export const isNotFound = (err: unknown): boolean => has(err, 404, "NotFound");
/** A write lost an optimistic-concurrency race (stale resourceVersion or precondition). */
export const isConflict = (err: unknown): boolean => has(err, 409) && !isAlreadyExists(err);
export const isAlreadyExists = (err: unknown): boolean =>
  err instanceof KubeError && err.reason === "AlreadyExists";
/** The resourceVersion is too old (compacted): relist. `Expired` is the in-stream form. */
export const isGone = (err: unknown): boolean =>
  err instanceof KubeError && (err.code === 410 || err.reason === "Gone" || err.reason === "Expired");
export const isForbidden = (err: unknown): boolean => has(err, 403, "Forbidden");
export const isInvalid = (err: unknown): boolean => has(err, 422, "Invalid");
export const isUnauthorized = (err: unknown): boolean => has(err, 401, "Unauthorized");
export const isTooManyRequests = (err: unknown): boolean => has(err, 429, "TooManyRequests");

/** Worth retrying later: overload, server errors and failures that never reached the server. */
export function isTransient(err: unknown): boolean {
  if (!(err instanceof KubeError)) return false;
  if (err.code === 0) return err.reason === "NetworkError" || err.reason === "DeadlineExceeded";
  return err.code === 429 || err.code >= 500;
}
