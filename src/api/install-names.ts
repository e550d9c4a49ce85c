/**
 * Names of the objects the install manifests (`manifests/`) create and agentland's components look up. A test
 * checks the manifests against these constants, so code and YAML cannot disagree.
 */

/** Namespaces the install manifests create. */
export const SYSTEM_NAMESPACE = "agentland-system";
export const DEFAULT_SANDBOX_NAMESPACE = "agentland-sandboxes";

/**
 * The gateway's Ed25519 signing keys (JWK set, private). Shipped empty by the manifests; the gateway fills it
 * and may only get, watch, update and patch this one name; it has no `create` on Secrets (see
 * manifests/20-gateway-rbac.yaml).
 */
export const GATEWAY_SIGNING_KEYS_SECRET = "agentland-gateway-signing-keys";

/** The public JWKS sandbox pods mount, one per sandbox namespace; the gateway keeps it current. */
export const SANDBOX_JWKS_CONFIGMAP = "agentland-sandbox-jwks";

/** Lease agentcore replicas elect their leader with, in the system namespace. */
export const AGENTCORE_LEASE = "agentland-agentcore";

/**
 * Hashed client API keys. Mounted into gateway pods as an optional Secret volume, so the gateway needs no
 * RBAC on Secrets to read it.
 */
export const GATEWAY_API_KEYS_SECRET = "agentland-gateway-api-keys";

export const SERVICE_ACCOUNTS = { agentcore: "agentland-agentcore", gateway: "agentland-gateway" } as const;

/**
 * Listen ports of the control-plane components (their Services use the same numbers): the gateway's HTTP API,
 * agentcore's gRPC port (`node:http2`) and agentcore's HTTP port (Connect over HTTP/2 for the gateway, browser
 * RPC over HTTP/1.1, health, metrics).
 */
export const COMPONENT_PORTS = { gateway: 8080, agentcore: 8082, agentcoreHttp: 8083 } as const;

/** `app.kubernetes.io/name` and `app.kubernetes.io/component` of the control-plane pods, as the manifests set them. */
export const APP_NAME = "agentland";
export const COMPONENTS = { gateway: "gateway", agentcore: "agentcore" } as const;
