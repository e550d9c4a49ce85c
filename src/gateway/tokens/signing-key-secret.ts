/**
 * The stored form of the signing keys: one Secret in the gateway's namespace whose `keys.json` holds every
 * private key with its schedule. The Secret is the single source of truth for all gateway replicas.
 */
import type { V1Secret } from "@kubernetes/client-node";
import type { JWK } from "jose";
import * as v from "valibot";
import type { Wire } from "../../kube/kube-object";
import type { KeySetState } from "./key-schedule";

export const KEYS_DATA_KEY = "keys.json";
/** Setting this annotation to a new value (e.g. a timestamp) asks the gateways to rotate now. */
export const ROTATE_ANNOTATION = "agentland.fl0rencess720.app/rotate-requested";

const StoredKeySchema = v.object({
  kid: v.pipe(v.string(), v.nonEmpty()),
  privateJwk: v.looseObject({
    kty: v.literal("OKP"),
    crv: v.literal("Ed25519"),
    x: v.string(),
    d: v.string(),
  }),
  createdAt: v.number(),
  activateAt: v.number(),
});
const KeySetSchema = v.object({
  version: v.literal(1),
  keys: v.array(StoredKeySchema),
  rotationHandled: v.optional(v.string()),
});

export type SecretObject = Wire<V1Secret>;

/** Reads the key set out of the Secret; throws an Error naming the problem. */
export function decodeKeySet(secret: SecretObject): KeySetState {
  const encoded = secret.data?.[KEYS_DATA_KEY];
  if (encoded === undefined) return { keys: [] };
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(encoded, "base64").toString("utf8"));
  } catch (err) {
    throw new Error(`secret ${secret.metadata?.name}: ${KEYS_DATA_KEY} is not JSON`, { cause: err });
  }
  const parsed = v.safeParse(KeySetSchema, json);
  if (!parsed.success) {
    throw new Error(`secret ${secret.metadata?.name}: ${KEYS_DATA_KEY}: ${parsed.issues[0].message}`);
  }
  const { keys, rotationHandled } = parsed.output;
  return {
    keys: keys.map((k) => ({ ...k, privateJwk: k.privateJwk as JWK })),
    ...(rotationHandled === undefined ? {} : { rotationHandled }),
  };
}

export function encodeKeySet(state: KeySetState): Record<string, string> {
  const body = { version: 1, keys: state.keys, rotationHandled: state.rotationHandled };
  return { [KEYS_DATA_KEY]: Buffer.from(JSON.stringify(body)).toString("base64") };
}

export function newSecret(name: string, namespace: string, state: KeySetState): SecretObject {
  return {
    apiVersion: "v1",
    kind: "Secret",
    type: "Opaque",
    metadata: {
      name,
      namespace,
      labels: {
        "app.kubernetes.io/managed-by": "agentland-gateway",
        "app.kubernetes.io/part-of": "agentland",
      },
    },
    data: encodeKeySet(state),
  };
}

export function rotationRequest(secret: SecretObject): string | undefined {
  return secret.metadata?.annotations?.[ROTATE_ANNOTATION];
}
