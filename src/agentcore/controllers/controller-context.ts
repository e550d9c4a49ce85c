/**
 * Everything a reconciler depends on, injected by the manager (or a test): caches to read, typed clients to
 * write, time and randomness, and the bookkeeping shared between controllers.
 */
import type { AgentRuntime } from "../../api/agent-runtime";
import type { AgentSession } from "../../api/agent-session";
import type { CodeInterpreter } from "../../api/code-interpreter";
import type { Sandbox } from "../../api/sandbox";
import type { SandboxClaim } from "../../api/sandbox-claim";
import type { SandboxPool } from "../../api/sandbox-pool";
import type { Clock } from "../../kube/clock";
import type { ResourceClient } from "../../kube/resource-client";
import type { Logger } from "../../log/logger";
import type { Pod } from "../render/render-pod";
import type { ClaimBindings } from "./claim-bindings";
import type { EventRecorder } from "./event-recorder";
import type { Expectations } from "./expectations";
import type { ObjectCache } from "./object-cache";
import type { OutdatedVersions } from "./outdated-versions";
import type { AdoptionsInFlight } from "./warm-adoption";
import type { WriteMemo } from "./write-memo";

export interface ControllerSettings {
  /** The gateway's JWKS ConfigMap, mounted into every sandbox pod. */
  readonly jwksConfigMap: string;
  /** Image of the korokd template a CodeInterpreter without a sandboxTemplate gets. */
  readonly codeInterpreterImage: string;
  /** The pool a CodeInterpreter without provisioning settings claims from, when it exists. */
  readonly codeInterpreterPool: string;
}

export interface Caches {
  readonly pods: ObjectCache<Pod>;
  readonly sandboxes: ObjectCache<Sandbox>;
  readonly pools: ObjectCache<SandboxPool>;
  readonly claims: ObjectCache<SandboxClaim>;
  readonly codeInterpreters: ObjectCache<CodeInterpreter>;
  readonly agentSessions: ObjectCache<AgentSession>;
  readonly runtimes: ObjectCache<AgentRuntime>;
}

export interface Clients {
  readonly pods: ResourceClient<Pod>;
  readonly sandboxes: ResourceClient<Sandbox>;
  readonly pools: ResourceClient<SandboxPool>;
  readonly claims: ResourceClient<SandboxClaim>;
  readonly codeInterpreters: ResourceClient<CodeInterpreter>;
  readonly agentSessions: ResourceClient<AgentSession>;
  readonly runtimes: ResourceClient<AgentRuntime>;
}

export type ControllerName = "sandbox" | "pool" | "claim" | "codeInterpreter" | "agentSession" | "runtime";

export interface ControllerContext {
  readonly caches: Caches;
  readonly api: Clients;
  readonly settings: ControllerSettings;
  readonly clock: Clock;
  readonly random: () => number;
  readonly expectations: Expectations;
  readonly memo: WriteMemo;
  /** Claim → sandbox bindings this process wrote that the caches may not show yet. */
  readonly bindings: ClaimBindings;
  /** Adoption writes under way in this process (see warm-adoption.ts). */
  readonly adopting: AdoptionsInFlight;
  /** Sandbox versions this process found taken (a take refused with Conflict) while the cache shows them. */
  readonly outdated: OutdatedVersions;
  readonly events: EventRecorder;
  readonly log: Logger;
  /**
   * Queues `namespace/name` for a controller now. A controller that just created or changed what another
   * one manages kicks it instead of waiting for the watch to echo its own write (one hop fewer per step of
   * session → claim → sandbox → pod). Purely an accelerator: the watch delivers the same wake-up anyway.
   */
  readonly kick: (controller: ControllerName, key: string) => void;
}

/** What a work-queue handler returns: nothing, or when to look again (deadlines, back-offs). */
export type ReconcileResult = undefined | { readonly requeueAfterMs: number };

export interface Reconciler {
  /** Converges the object `namespace/name`; idempotent, safe to call at any time, any number of times. */
  reconcile(key: string, signal: AbortSignal): Promise<ReconcileResult>;
}

/** Memo keys are per kind: a Sandbox and its Pod share a name. */
export const memoKey = (kind: string, namespace: string, name: string): string =>
  `${kind}:${namespace}/${name}`;

/** `namespace/name` → its parts; work-queue keys are always namespaced here. */
export function splitNamespaced(key: string): { namespace: string; name: string } {
  const slash = key.indexOf("/");
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
