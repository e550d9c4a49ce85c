/**
 * The node has no container engine and no registry: a container image is mapped to a local program by
 * a small table. A rule matches the image's repository (the reference without tag or digest; `*` is a
 * wildcard) and gives what the image would: its ENTRYPOINT (`command`), CMD (`args`) and environment.
 * Placeholders: `{repo}` (this checkout), `{bun}` (the Bun executable), and an element that is exactly
 * `{agentland}` expands to the project executable (`dist/agentland`, or `bun src/main.ts`).
 * An image no rule matches is not run: the container waits with reason ErrImageNeverPull.
 */
import { readFileSync } from "node:fs";
import * as v from "valibot";

const ruleSchema = v.object({
  repository: v.pipe(v.string(), v.minLength(1)),
  command: v.optional(v.array(v.string()), []),
  args: v.optional(v.array(v.string()), []),
  env: v.optional(v.record(v.string(), v.string()), {}),
  workingDir: v.optional(v.string()),
});
const fileSchema = v.object({ rules: v.array(ruleSchema) });

export type ImageRule = v.InferInput<typeof ruleSchema>;

/** What starting a container of the image runs, before the pod's `command`/`args` apply. */
export interface ImageTarget {
  readonly entrypoint: readonly string[];
  readonly cmd: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly workingDir?: string;
}

export interface ImageMapVars {
  readonly repo: string;
  readonly bun: string;
  /** argv prefix that runs the project executable. */
  readonly agentland: readonly string[];
}

export interface ImageMap {
  resolve(image: string): ImageTarget | undefined;
  /** One line per rule, for the ErrImageNeverPull message and the README. */
  describe(): string[];
}

export const DEFAULT_IMAGE_RULES: readonly ImageRule[] = [
  { repository: "agentland/control-plane", command: ["{agentland}"] },
  { repository: "*/agentland/control-plane", command: ["{agentland}"] },
  { repository: "agentland/code-interpreter", command: ["{agentland}"], args: ["--mode=korokd"] },
  { repository: "*/agentland/code-interpreter", command: ["{agentland}"], args: ["--mode=korokd"] },
  { repository: "agentland-fixtures/http-echo", command: ["{bun}", "{repo}/e2e/fixtures/http-echo.ts"] },
  // Like busybox: no entrypoint, CMD `sh`; pods give their own `command`.
  { repository: "agentland-fixtures/shell", args: ["/bin/sh"] },
];

/** Repository part of an image reference: drops `@digest` and a `:tag` after the last `/`. */
export function imageRepository(image: string): string {
  const noDigest = image.split("@")[0] ?? image;
  const slash = noDigest.lastIndexOf("/");
  const colon = noDigest.lastIndexOf(":");
  return colon > slash ? noDigest.slice(0, colon) : noDigest;
}

function globToRegExp(glob: string): RegExp {
  const body = glob
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${body}$`);
}

export function loadImageRules(path: string): ImageRule[] {
  const parsed = v.safeParse(fileSchema, JSON.parse(readFileSync(path, "utf8")));
  if (!parsed.success) throw new Error(`image map ${path}: ${parsed.issues[0].message}`);
  return parsed.output.rules;
}

export function createImageMap(rules: readonly ImageRule[], vars: ImageMapVars): ImageMap {
  const compiled = rules.map((rule) => ({ rule, re: globToRegExp(rule.repository) }));
  const fill = (s: string) => s.replaceAll("{repo}", vars.repo).replaceAll("{bun}", vars.bun);
  const expand = (argv: readonly string[]) =>
    argv.flatMap((arg) => (arg === "{agentland}" ? [...vars.agentland] : [fill(arg)]));
  return {
    resolve(image) {
      const repository = imageRepository(image);
      const hit = compiled.find((c) => c.re.test(repository));
      if (!hit) return undefined;
      const { rule } = hit;
      return {
        entrypoint: expand(rule.command ?? []),
        cmd: expand(rule.args ?? []),
        env: Object.fromEntries(Object.entries(rule.env ?? {}).map(([k, val]) => [k, fill(val)])),
        ...(rule.workingDir === undefined ? {} : { workingDir: fill(rule.workingDir) }),
      };
    },
    describe: () =>
      rules.map((r) => `${r.repository} → ${[...(r.command ?? []), ...(r.args ?? [])].join(" ")}`),
  };
}
