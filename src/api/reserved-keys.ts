/**
 * Label and annotation keys agentland reserves, and the few names it reserves inside objects. Users cannot set reserved keys through a sandbox template:
 * agentland's controllers select and adopt pods by these labels, so a user-supplied value could move a pod
 * into a pool or claim it does not belong to.
 */
import { GROUP } from "./group";

/** Every key under this prefix belongs to agentland. */
export const RESERVED_PREFIX = `${GROUP}/`;

export const LABELS = {
  /** Set on every object agentland creates, value {@link MANAGED_BY}. */
  managedBy: "app.kubernetes.io/managed-by",
  /** Name of the session (CodeInterpreter or AgentSession) a Sandbox, claim or pod serves. */
  session: `${GROUP}/session`,
  /** Kind of that session: `CodeInterpreter` or `AgentSession`. */
  sessionKind: `${GROUP}/session-kind`,
  /** Name of the Sandbox a pod belongs to. */
  sandbox: `${GROUP}/sandbox`,
  /** Name of the SandboxPool a Sandbox (and its pod) was created by. */
  pool: `${GROUP}/pool`,
  /** Name of the SandboxClaim that holds a Sandbox. */
  claim: `${GROUP}/claim`,
  /** Hash of the normalized sandbox template a Sandbox was built from; pools match on it exactly. */
  templateHash: `${GROUP}/template-hash`,
  /** Name of the AgentRuntime a session, pool or Sandbox was derived from. */
  runtime: `${GROUP}/runtime`,
} as const;

export const ANNOTATIONS = {
  /** Hash of the client principal that created a session; only that principal may use the session. */
  principal: `${GROUP}/principal`,
} as const;

/** The value of `app.kubernetes.io/managed-by` on objects agentland creates. */
export const MANAGED_BY = "agentland";

/**
 * Name of the sandbox container's port. The shipped NetworkPolicy admits the gateway to this *named* port, so
 * it covers every sandbox whatever port number its template uses.
 */
export const SANDBOX_PORT_NAME = "sandbox";

/** The key of the JWKS document in the JWKS ConfigMap (`SANDBOX_JWKS_CONFIGMAP`). */
export const SANDBOX_JWKS_KEY = "jwks.json";

const escaped = (domain: string) => domain.replaceAll(".", "[.]");

/**
 * Keys a sandbox template may not set as pod labels or annotations: agentland's own, and those Kubernetes
 * reserves for its components (`kubernetes.io/`, `k8s.io/` and their subdomains). `app.kubernetes.io/` is the
 * exception: Kubernetes recommends those labels to applications. Written once as a regular expression in the
 * common subset of RE2 (CEL's `matches`) and JavaScript, so the CRD and `src/api` validation agree.
 */
export const RESERVED_KEY_PATTERN = `^([^/]*[.])?(${escaped(GROUP)}|kubernetes[.]io|k8s[.]io)/`;
export const USER_KEY_EXCEPTION_PREFIX = "app.kubernetes.io/";

const reservedKey = new RegExp(RESERVED_KEY_PATTERN);

export function isReservedKey(key: string): boolean {
  return reservedKey.test(key) && !key.startsWith(USER_KEY_EXCEPTION_PREFIX);
}
