/**
 * The environment user code sees. It is built from scratch, never inherited: korokd's own environment
 * holds its settings, the downward API and the `KUBERNETES_*` service variables, none of which belong
 * to user code. The request's variables come on top; a runtime's forced variables win over both.
 */

export type Env = Readonly<Record<string, string>>;

export function baseEnv(workspaceDir: string): Env {
  return {
    PATH: "/usr/local/bin:/usr/bin:/bin",
    HOME: workspaceDir,
    LANG: "C.UTF-8",
    // Output must reach a streaming client as it is printed, not when an 8 KiB buffer fills.
    PYTHONUNBUFFERED: "1",
    PYTHONDONTWRITEBYTECODE: "1",
  };
}

export function sandboxEnv(base: Env, requested: Env | undefined, forced: Env): Env {
  return { ...base, ...requested, ...forced };
}
