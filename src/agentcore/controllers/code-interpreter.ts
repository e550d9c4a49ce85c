/**
 * CodeInterpreter: a code-execution session on a sandbox running korokd.
 *
 * Without a sandboxTemplate it gets agentcore's korokd template (`--code-interpreter-image`, port 1883,
 * readiness on korokd's `/health`, which answers only once the JWKS is loaded). Without a poolRef, pool
 * modes claim from the pool named by `--code-interpreter-pool` when that pool exists in the namespace, and
 * otherwise from any pool built from exactly the session's template (creating a sandbox when the mode
 * allows and none is free).
 */

import * as v from "valibot";
import { CODE_INTERPRETER, type CodeInterpreter, codeInterpreterKind } from "../../api/code-interpreter";
import {
  DEFAULT_SANDBOX_PORT,
  type SandboxTemplate,
  sandboxTemplateSchema,
} from "../../api/sandbox-template";
import { durationToMs } from "../../api/schema/duration";
import {
  type ControllerContext,
  memoKey,
  type ReconcileResult,
  type Reconciler,
  splitNamespaced,
} from "./controller-context";
import { parseCached } from "./parse-cached";
import { createSessionProvisioner, type SessionResolution } from "./session-provisioner";

/** korokd's readiness endpoint: 200 only once its JWKS is loaded and it can verify tokens. */
export const KOROKD_READINESS_PATH = "/health";

export function defaultCodeInterpreterTemplate(image: string): SandboxTemplate {
  return v.parse(sandboxTemplateSchema, {
    image,
    port: DEFAULT_SANDBOX_PORT,
    readinessPath: KOROKD_READINESS_PATH,
  });
}

export function createCodeInterpreterReconciler(ctx: ControllerContext): Reconciler {
  const provisioner = createSessionProvisioner<CodeInterpreter>(ctx, {
    names: CODE_INTERPRETER,
    api: ctx.api.codeInterpreters,
    cache: ctx.caches.codeInterpreters,
  });
  const defaultTemplate = defaultCodeInterpreterTemplate(ctx.settings.codeInterpreterImage);

  function resolve(session: CodeInterpreter): SessionResolution {
    const { mode, poolRef } = session.spec.provisioning;
    const template = session.spec.sandboxTemplate ?? defaultTemplate;
    const ns = session.metadata.namespace ?? "";
    const configuredPool = ctx.settings.codeInterpreterPool;
    const useConfiguredPool =
      mode !== "Direct" &&
      !poolRef &&
      !session.spec.sandboxTemplate &&
      ctx.caches.pools.get(ns, configuredPool) !== undefined;
    const poolName = poolRef?.name ?? (useConfiguredPool ? configuredPool : undefined);
    return {
      maxSessionDurationMs: durationToMs(session.spec.maxSessionDuration),
      plan: { template, mode, ...(poolName ? { poolName } : {}) },
    };
  }

  return {
    async reconcile(key: string, signal: AbortSignal): Promise<ReconcileResult> {
      const { namespace, name } = splitNamespaced(key);
      const raw = ctx.memo.latest(
        memoKey(CODE_INTERPRETER.kind, namespace, name),
        ctx.caches.codeInterpreters.get(namespace, name),
      );
      if (!raw) return undefined;
      const parsed = parseCached(codeInterpreterKind, raw);
      if (!parsed.success) return undefined; // the CRD validates sessions
      return provisioner.reconcile(raw, parsed.value, resolve(parsed.value), signal);
    },
  };
}
