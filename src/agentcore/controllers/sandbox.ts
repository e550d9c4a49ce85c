/**
 * Sandbox → exactly one Pod, named like the Sandbox and controlled by it.
 *
 * - No pod: create it (a deterministic name makes a retried or duplicated create harmless: AlreadyExists).
 * - Pod deleted out from under an unclaimed (warm) sandbox, or before it was ever Ready: recreated.
 * - Pod deleted (or being deleted) under a claimed sandbox that has served (its pod was Ready, so
 *   `status.podIP` is set for as long as that pod lives): the session's in-memory state (korokd
 *   contexts, an agent's conversation) died with it, so a silent replacement would lie. The Sandbox becomes
 *   `Failed` (reason PodDeleted) and the session reports it; the client starts a new session.
 * - Status mirrors the pod: Ready ⇔ the pod's Ready condition; an unrunnable image or ended process ⇒ Failed.
 */
import { LABELS } from "../../api/reserved-keys";
import { SANDBOX, type Sandbox, sandboxKind } from "../../api/sandbox";
import { SANDBOX_POOL } from "../../api/sandbox-pool";
import { isAlreadyExists } from "../../kube/kube-error";
import { rfc3339 } from "../render/conditions";
import { type Pod, renderSandboxPod } from "../render/render-pod";
import { computeSandboxStatus, type PodVerdict, type SandboxStatus } from "../render/sandbox-status";
import {
  type ControllerContext,
  memoKey,
  type ReconcileResult,
  type Reconciler,
  splitNamespaced,
} from "./controller-context";
import { controllerOf, isControlledBy } from "./owner-refs";
import { issuesText, parseCached } from "./parse-cached";
import { releaseStaleReservation, reservedSession } from "./reservation";
import { onlyGenerationMoved, patchStatusIfChanged } from "./status-patch";

/** A pod of the same name still owned by a deleted Sandbox: the garbage collector will remove it soon. */
const FOREIGN_POD_RETRY_MS = 1_000;
/** How long a new sandbox may start without reporting Pending (see firstPendingQuietMs). */
const FIRST_PENDING_QUIET_MS = 3_000;
/** How long a status that only catches up with a new generation may wait (see generationLagMs). */
const GENERATION_ONLY_LAG_MS = 30_000;

export function createSandboxReconciler(ctx: ControllerContext): Reconciler {
  const sandboxKey = (ns: string, name: string) => memoKey(SANDBOX.kind, ns, name);
  const podKey = (ns: string, name: string) => memoKey("Pod", ns, name);
  /** Sandboxes whose status waits to catch up with a new generation → since when (monotonic ms). */
  const lagging = new Map<string, number>();

  /** Creates the pod. The write memo serves it to the next reconcile until the cache shows it. */
  async function ensurePod(sandbox: Sandbox, signal: AbortSignal): Promise<Pod | undefined> {
    const { namespace = "", name = "" } = sandbox.metadata;
    const pod = renderSandboxPod(sandbox, { jwksConfigMap: ctx.settings.jwksConfigMap });
    try {
      const created = await ctx.api.pods.create(pod, { namespace, signal });
      ctx.memo.remember(podKey(namespace, name), undefined, created);
      return created;
    } catch (err) {
      if (isAlreadyExists(err)) return undefined; // the cache is behind; its event brings us back
      throw err;
    }
  }

  /** Converges the sandbox; one reserved for a session by name is deleted once no session will take it. */
  async function reconcile(key: string, signal: AbortSignal): Promise<ReconcileResult> {
    const result = await converge(key, signal);
    const { namespace, name } = splitNamespaced(key);
    const raw = ctx.memo.latest(sandboxKey(namespace, name), ctx.caches.sandboxes.get(namespace, name));
    if (!raw || !reservedSession(raw)) return result;
    const check = await releaseStaleReservation(ctx, raw, signal);
    if (!result || !check) return result ?? check;
    return { requeueAfterMs: Math.min(result.requeueAfterMs, check.requeueAfterMs) };
  }

  async function converge(key: string, signal: AbortSignal): Promise<ReconcileResult> {
    const { namespace, name } = splitNamespaced(key);
    const raw = ctx.memo.latest(sandboxKey(namespace, name), ctx.caches.sandboxes.get(namespace, name));
    // Gone or going: the pod follows through its owner reference.
    if (!raw || raw.metadata?.deletionTimestamp) {
      lagging.delete(key);
      return undefined;
    }
    const parsed = parseCached(sandboxKind, raw);
    if (!parsed.success) {
      await writeStatus(raw, failedStatus(raw, "InvalidSpec", issuesText(parsed)), signal);
      return undefined;
    }
    const sandbox = parsed.value;
    let pod = ctx.memo.latest(podKey(namespace, name), ctx.caches.pods.get(namespace, name));
    if (pod && !isControlledBy(pod, sandbox)) {
      await writeStatus(
        sandbox,
        pendingStatus(sandbox, "PodNameTaken", "waiting for an old pod of the same name to go"),
        signal,
      );
      return { requeueAfterMs: FOREIGN_POD_RETRY_MS };
    }
    let verdict: PodVerdict | undefined;
    // In use: claimed, or pre-adopted by a session (a pool's sandbox its pool no longer controls).
    const taken =
      sandbox.spec.claimRef !== undefined ||
      (sandbox.metadata.labels?.[LABELS.pool] !== undefined &&
        controllerOf(sandbox)?.kind !== SANDBOX_POOL.kind);
    const served = taken && sandbox.status?.podIP !== undefined;
    if (sandbox.status?.phase !== "Failed" && served && (!pod || pod.metadata?.deletionTimestamp)) {
      verdict = {
        phase: "Failed",
        reason: "PodDeleted",
        message: `pod ${name} was deleted while the sandbox was in use`,
      };
    } else if (!pod && sandbox.status?.phase !== "Failed") {
      if (sandbox.status?.podIP)
        ctx.events.record(sandbox, "Normal", "PodRecreated", `pod ${name} was deleted; recreating it`);
      pod = await ensurePod(sandbox, signal);
    }
    const status = computeSandboxStatus({
      sandbox,
      pod,
      now: rfc3339(ctx.clock.now()),
      ...(verdict ? { verdict } : {}),
    });
    const quietFor = firstPendingQuietMs(sandbox, status);
    if (quietFor > 0) return { requeueAfterMs: quietFor };
    const lagFor = generationLagMs(key, sandbox, status);
    if (lagFor > 0) return { requeueAfterMs: lagFor };
    const before = sandbox.status?.phase;
    if (await writeStatus(raw, status, signal)) {
      if (status.phase === "Failed" && before !== "Failed") {
        const ready = status.conditions?.find((c) => c.type === "Ready");
        ctx.events.record(sandbox, "Warning", ready?.reason ?? "Failed", ready?.message ?? "sandbox failed");
      }
    }
    return undefined;
  }

  /**
   * A fresh sandbox whose pod is simply starting gets no "Pending" status for its first seconds: most pods
   * are Ready by then, and skipping that write (and the claim's and session's mirror of it) is a third of a
   * warm refill's status traffic. Ready, Failed, or still pending after the quiet period: written as usual.
   */
  function firstPendingQuietMs(sandbox: Sandbox, status: SandboxStatus): number {
    if (sandbox.status !== undefined || status.phase !== "Pending") return 0;
    const reason = status.conditions?.find((c) => c.type === "Ready")?.reason;
    if (reason !== "PodNotReady" && reason !== "PodCreating") return 0;
    const age = ctx.clock.now() - (Date.parse(sandbox.metadata.creationTimestamp ?? "") || 0);
    return Math.max(0, FIRST_PENDING_QUIET_MS - age);
  }

  /**
   * Adoption sets `spec.claimRef`, a new generation, yet nothing the status says depends on it: only
   * `observedGeneration` would change. That write waits (any real change goes at once and carries it
   * along), so it never competes with the claim's and session's status writes on the warm path, nor with
   * a burst of adoptions: at 5 s, a 200-session burst on a loaded machine still took 110 of these writes
   * while its last sessions were binding; 30 s is past such a burst.
   */
  function generationLagMs(key: string, sandbox: Sandbox, status: SandboxStatus): number {
    if (!onlyGenerationMoved(sandbox.status, status)) {
      lagging.delete(key);
      return 0;
    }
    const now = ctx.clock.monotonic();
    const since = lagging.get(key) ?? now;
    const left = GENERATION_ONLY_LAG_MS - (now - since);
    if (left <= 0) lagging.delete(key);
    else lagging.set(key, since);
    return Math.max(0, left);
  }

  /** True when a write happened. */
  async function writeStatus(obj: Sandbox, status: SandboxStatus, signal: AbortSignal): Promise<boolean> {
    const updated = await patchStatusIfChanged(ctx.api.sandboxes, obj, status, { signal });
    if (!updated) return false;
    const { namespace = "", name = "" } = obj.metadata;
    ctx.memo.remember(sandboxKey(namespace, name), obj, updated);
    return true;
  }

  function pendingStatus(sandbox: Sandbox, reason: string, message: string): SandboxStatus {
    return computeSandboxStatus({
      sandbox,
      pod: undefined,
      verdict: { phase: "Pending", reason, message },
      now: rfc3339(ctx.clock.now()),
    });
  }

  function failedStatus(raw: Sandbox, reason: string, message: string): SandboxStatus {
    const now = rfc3339(ctx.clock.now());
    const old = raw.status?.conditions?.find((c) => c.type === "Ready");
    return {
      phase: "Failed",
      conditions: [
        {
          type: "Ready",
          status: "False",
          lastTransitionTime: old?.status === "False" ? old.lastTransitionTime : now,
          reason,
          message: message.slice(0, 32_768),
        },
      ],
      ...(raw.metadata.generation === undefined ? {} : { observedGeneration: raw.metadata.generation }),
    };
  }

  return { reconcile };
}
