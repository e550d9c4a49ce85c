/**
 * The template a SandboxPool builds from: its own, or its AgentRuntime's. Shared by the pool controller
 * (what to create) and the claim controller (what a cold sandbox for a pool claim looks like).
 */
import { agentRuntimeKind } from "../../api/agent-runtime";
import type { SandboxPool } from "../../api/sandbox-pool";
import type { SandboxTemplate } from "../../api/sandbox-template";
import { templateHash } from "../render/template-hash";
import type { Caches } from "./controller-context";
import { parseCached } from "./parse-cached";

export type ResolvedTemplate =
  | {
      readonly ok: true;
      readonly template: SandboxTemplate;
      readonly hash: string;
      /** The runtime the template came from, if any. */
      readonly runtime?: string;
    }
  | { readonly ok: false; readonly reason: string; readonly message: string };

const hashes = new WeakMap<object, string>();

/** Template hashes memoized per template object (parsed objects are immutable snapshots). */
export function cachedTemplateHash(template: SandboxTemplate): string {
  const known = hashes.get(template);
  if (known !== undefined) return known;
  const hash = templateHash(template);
  hashes.set(template, hash);
  return hash;
}

export function resolvePoolTemplate(pool: SandboxPool, caches: Caches): ResolvedTemplate {
  const own = pool.spec.sandboxTemplate;
  if (own) return { ok: true, template: own, hash: cachedTemplateHash(own) };
  const ref = pool.spec.runtimeRef;
  if (!ref)
    return { ok: false, reason: "InvalidSpec", message: "the pool names neither a template nor a runtime" };
  const namespace = ref.namespace ?? pool.metadata.namespace ?? "";
  const raw = caches.runtimes.get(namespace, ref.name);
  if (!raw)
    return {
      ok: false,
      reason: "RuntimeNotFound",
      message: `AgentRuntime ${namespace}/${ref.name} does not exist`,
    };
  const parsed = parseCached(agentRuntimeKind, raw);
  if (!parsed.success)
    return {
      ok: false,
      reason: "RuntimeInvalid",
      message: `AgentRuntime ${namespace}/${ref.name} is invalid`,
    };
  const template = parsed.value.spec.sandboxTemplate;
  return { ok: true, template, hash: cachedTemplateHash(template), runtime: ref.name };
}
