/**
 * Keeps this replica's view of the signing keys in step with the Secret, rotates them on schedule or on
 * demand, and publishes the public half to every sandbox namespace.
 *
 * Race safety between replicas: the Secret is created with create → AlreadyExists → read, and every
 * change is an update carrying the resourceVersion read just before (compare-and-swap); the loser of a
 * race re-reads and re-plans, usually finding nothing left to do. Decisions come from `key-schedule.ts`,
 * so all replicas agree on which key signs at any moment.
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import type { Clock } from "../../kube/clock";
import type { KubeClient } from "../../kube/kube-client";
import { isAlreadyExists, isConflict, isNotFound } from "../../kube/kube-error";
import { SECRETS } from "../../kube/resources";
import type { Logger } from "../../log/logger";
import { describeError } from "../describe-error";
import { publishJwks } from "./jwks-publisher";
import {
  type KeyPolicy,
  type KeySetState,
  planKeys,
  publicJwks,
  type StoredKey,
  signingKeyAt,
} from "./key-schedule";
import {
  decodeKeySet,
  encodeKeySet,
  newSecret,
  rotationRequest,
  type SecretObject,
} from "./signing-key-secret";
import { type ActiveSigningKey, encodedJoseHeader, type SigningKeySource } from "./token-minter";

export interface SigningKeyStoreOptions {
  readonly kube: KubeClient;
  /** Namespace and name of the Secret holding the private keys. */
  readonly namespace: string;
  readonly secretName: string;
  /** ConfigMap name and the namespaces to publish the JWKS in. */
  readonly jwksConfigMap: string;
  readonly sandboxNamespaces: readonly string[];
  readonly policy: KeyPolicy;
  readonly clock: Clock;
  readonly log: Logger;
  /** How often to re-read the Secret; must stay well below the propagation delay. */
  readonly syncIntervalMs: number;
}

export interface SigningKeyStore extends SigningKeySource {
  /** Loads (or creates) the keys, publishes the JWKS, and keeps doing so every sync interval. */
  start(): void;
  /** One sync now: read, rotate/drop as due, publish. Rejects when the Secret could not be read. */
  sync(): Promise<void>;
  /** Starts a rotation now (the new key signs after the propagation delay). */
  rotate(): Promise<void>;
  /** True once a key set has been loaded. */
  ready(): boolean;
  /** Kids in the current set (for logs and tests). */
  kids(): readonly string[];
  stop(): void;
}

const MAX_WRITE_ATTEMPTS = 5;

export function createSigningKeyStore(opts: SigningKeyStoreOptions): SigningKeyStore {
  const secrets = opts.kube.resource(SECRETS);
  const stopper = new AbortController();
  const call = { namespace: opts.namespace, timeoutMs: 10_000, signal: stopper.signal };
  let state: KeySetState | undefined;
  const imported = new Map<string, ActiveSigningKey>();
  let forceRotation = false;
  let running: Promise<void> = Promise.resolve();
  let timer: ReturnType<typeof setInterval> | undefined;

  async function readOrCreate(): Promise<SecretObject> {
    try {
      return await secrets.get(opts.secretName, call);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    const first = addKey({ keys: [] }, opts.clock.now());
    try {
      const created = await secrets.create(newSecret(opts.secretName, opts.namespace, first), call);
      opts.log.info("signing keys created", { secret: opts.secretName, kid: first.keys[0]?.kid });
      return created;
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      // Another replica won the race: use its keys.
      return await secrets.get(opts.secretName, call);
    }
  }

  async function reconcileSecret(): Promise<KeySetState> {
    for (let attempt = 1; ; attempt++) {
      const secret = await readOrCreate();
      const current = decodeKeySet(secret);
      const requested = rotationRequest(secret);
      const annotationAsks = requested !== undefined && requested !== current.rotationHandled;
      const now = opts.clock.now();
      const plan = planKeys(current, now, opts.policy, forceRotation || annotationAsks);
      if (plan.addKeyActivatingAt === undefined && plan.drop.length === 0 && !annotationAsks) {
        forceRotation = false;
        return current;
      }
      let next: KeySetState = {
        keys: current.keys.filter((k) => !plan.drop.includes(k.kid)),
        ...withRotationHandled(annotationAsks ? requested : current.rotationHandled),
      };
      if (plan.addKeyActivatingAt !== undefined) next = addKey(next, now, plan.addKeyActivatingAt);
      try {
        await secrets.update({ ...secret, data: { ...secret.data, ...encodeKeySet(next) } }, call);
      } catch (err) {
        if (isConflict(err) && attempt < MAX_WRITE_ATTEMPTS) continue;
        throw err;
      }
      forceRotation = false;
      opts.log.info("signing keys updated", {
        added: plan.addKeyActivatingAt === undefined ? undefined : next.keys.at(-1)?.kid,
        dropped: plan.drop,
        kids: next.keys.map((k) => k.kid),
      });
      return next;
    }
  }

  function apply(next: KeySetState): void {
    for (const key of next.keys) {
      if (!imported.has(key.kid)) {
        const privateKey: KeyObject = createPrivateKey({ key: { ...key.privateJwk }, format: "jwk" });
        imported.set(key.kid, { kid: key.kid, key: privateKey, encodedHeader: encodedJoseHeader(key.kid) });
      }
    }
    for (const kid of imported.keys()) if (!next.keys.some((k) => k.kid === kid)) imported.delete(kid);
    state = next;
  }

  async function syncOnce(): Promise<void> {
    const next = await reconcileSecret();
    apply(next);
    await publishJwks(
      { kube: opts.kube, name: opts.jwksConfigMap, namespaces: opts.sandboxNamespaces, log: opts.log },
      JSON.stringify(publicJwks(next)),
      stopper.signal,
    );
  }

  function sync(): Promise<void> {
    // One sync at a time; a caller always waits for a sync that started after its call.
    const next = running.catch(() => undefined).then(syncOnce);
    running = next;
    return next;
  }

  return {
    current(): ActiveSigningKey | undefined {
      if (state === undefined) return undefined;
      const key = signingKeyAt(state, opts.clock.now());
      return key && imported.get(key.kid);
    },
    start() {
      const tick = () =>
        void sync().catch((err: unknown) => {
          if (!stopper.signal.aborted)
            opts.log.warn("signing key sync failed", { error: describeError(err) });
        });
      tick();
      timer = setInterval(tick, opts.syncIntervalMs);
    },
    sync,
    async rotate() {
      forceRotation = true;
      await sync();
    },
    ready: () => state !== undefined && state.keys.length > 0,
    kids: () => state?.keys.map((k) => k.kid) ?? [],
    stop() {
      if (timer !== undefined) clearInterval(timer);
      stopper.abort(new Error("signing key store stopped"));
    },
  };
}

function addKey(state: KeySetState, now: number, activateAt = now): KeySetState {
  const { privateKey } = generateKeyPairSync("ed25519");
  const jwk = privateKey.export({ format: "jwk" });
  const kid = `ed25519-${new Date(now).toISOString().slice(0, 10)}-${crypto.randomUUID().slice(0, 8)}`;
  const key: StoredKey = {
    kid,
    privateJwk: { kty: "OKP", crv: "Ed25519", x: jwk.x as string, d: jwk.d as string },
    createdAt: now,
    activateAt,
  };
  return { ...state, keys: [...state.keys, key] };
}

function withRotationHandled(value: string | undefined): { rotationHandled?: string } {
  return value === undefined ? {} : { rotationHandled: value };
}
