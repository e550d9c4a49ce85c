/**
 * Client authentication: an API key in `Authorization: Bearer <key>` or `x-api-key`, mapped to a
 * principal by the key store. With `--auth=none` (local development only) every caller is the principal
 * `anonymous`. The client's credentials stop here: the proxy never forwards them to a sandbox.
 */
import type { MiddlewareHandler } from "hono";
import type { ApiKeyStore } from "../auth/api-key-store";
import type { GatewayEnv } from "../gateway-env";
import { GatewayError } from "../gateway-error";

export const ANONYMOUS_PRINCIPAL = "anonymous";

export type AuthMode = { readonly kind: "none" } | { readonly kind: "api-keys"; readonly store: ApiKeyStore };

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/** Extracts the presented key; undefined when the request carries none. */
export function presentedApiKey(headers: Headers): string | undefined {
  const authorization = headers.get("authorization");
  if (authorization !== null && authorization.trim() !== "") {
    const match = BEARER.exec(authorization);
    if (match === null) throw new GatewayError("api_key_invalid", "Authorization must be 'Bearer <api key>'");
    return match[1];
  }
  const header = headers.get("x-api-key");
  return header === null || header.trim() === "" ? undefined : header.trim();
}

/** The principal the request's credentials name; throws `api_key_missing` / `api_key_invalid`. */
export function principalOf(headers: Headers, mode: AuthMode): string {
  if (mode.kind === "none") return ANONYMOUS_PRINCIPAL;
  const key = presentedApiKey(headers);
  if (key === undefined) {
    throw new GatewayError("api_key_missing", "an API key is required (Authorization: Bearer or x-api-key)");
  }
  const entry = key.length <= 512 ? mode.store.lookup(key) : undefined;
  if (entry === undefined) throw new GatewayError("api_key_invalid", "the API key is not valid");
  return entry.principal;
}

export function authenticate(mode: AuthMode): MiddlewareHandler<GatewayEnv> {
  return async function authenticateClient(c, next) {
    c.set("principal", principalOf(c.req.raw.headers, mode));
    return next();
  };
}
