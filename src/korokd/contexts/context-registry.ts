/**
 * The contexts of this sandbox, by id. Creating one starts its interpreter at once, so the first
 * execution finds it warm. The number of contexts is capped: each one is a live process.
 */

import type { Clock } from "../clock";
import type { SpawnedChild } from "../exec/interpreter";
import { BUN_RUNTIME_ENV, type RuntimePaths } from "../exec/languages";
import type { OomCounter } from "../exec/oom-counter";
import { type Env, sandboxEnv } from "../exec/sandbox-env";
import { KorokdError } from "../korokd-error";
import { bunDriverArgv } from "./bun-driver";
import { type CodeContext, type ContextLanguage, createCodeContext } from "./code-context";
import { pythonDriverArgv } from "./python-driver";

export const CONTEXT_LANGUAGES: readonly ContextLanguage[] = ["python", "javascript", "typescript"];

export interface ContextRegistryOptions {
  readonly paths: RuntimePaths;
  readonly baseEnv: Env;
  readonly workspace: string;
  readonly maxContexts: number;
  readonly killGraceMs: number;
  readonly clock: Clock;
  readonly onSpawn: (child: SpawnedChild) => void;
  readonly oom: OomCounter;
}

export interface ContextRegistry {
  create(language: string, env: Env | undefined): CodeContext;
  get(id: string): CodeContext;
  list(): CodeContext[];
  delete(id: string): Promise<void>;
  stopAll(): Promise<void>;
}

export function isContextLanguage(value: string): value is ContextLanguage {
  return (CONTEXT_LANGUAGES as readonly string[]).includes(value);
}

export function createContextRegistry(options: ContextRegistryOptions): ContextRegistry {
  const contexts = new Map<string, CodeContext>();

  function argvFor(language: ContextLanguage): string[] {
    if (language === "python") return pythonDriverArgv(options.paths.python);
    return bunDriverArgv(options.paths.bun, language);
  }

  return {
    create(language, env) {
      if (!isContextLanguage(language)) {
        throw new KorokdError(
          "unsupported_language",
          `contexts support ${CONTEXT_LANGUAGES.join(", ")}; got "${language}"`,
        );
      }
      if (contexts.size >= options.maxContexts) {
        throw new KorokdError(
          "too_many_contexts",
          `at most ${options.maxContexts} contexts may exist at once`,
          {
            retryAfterSeconds: 1,
          },
        );
      }
      const forced = language === "python" ? {} : BUN_RUNTIME_ENV;
      const context = createCodeContext({
        id: crypto.randomUUID(),
        language,
        argv: argvFor(language),
        env: sandboxEnv(options.baseEnv, env, forced),
        cwd: options.workspace,
        killGraceMs: options.killGraceMs,
        createdAt: new Date(options.clock.now()).toISOString(),
        onSpawn: options.onSpawn,
        oom: options.oom,
      });
      contexts.set(context.id, context);
      return context;
    },
    get(id) {
      const context = contexts.get(id);
      if (context === undefined) throw new KorokdError("context_not_found", `context ${id} does not exist`);
      return context;
    },
    list: () => [...contexts.values()],
    async delete(id) {
      const context = this.get(id);
      contexts.delete(id);
      await context.dispose();
    },
    async stopAll() {
      const all = [...contexts.values()];
      contexts.clear();
      await Promise.all(all.map((c) => c.dispose()));
    },
  };
}
