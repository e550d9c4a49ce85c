/**
 * The node has no container engine and no registry: a container image is mapped to a local program by
 * a small table. A rule matches the image's repository (the reference without tag or digest; `*` is a
 * wildcard) and gives what the image would: its ENTRYPOINT (`command`), CMD (`args`) and environment.
 * Placeholders: `{repo}` (this checkout), `{bun}` (the Bun executable), `{1}` (what the repository's
 * first `*` matched), and an element that is exactly `{agentland}` expands to the project executable
 * (`dist/agentland`, or `bun src/main.ts`). A rule with `ifExists` applies only when that path exists
 * (so `agentland-fixtures/<name>` maps to `e2e/fixtures/<name>.ts` only for fixtures that exist).
 * An image no rule matches is not run: the container waits with reason ErrImageNeverPull.
 *
 * Bun-run images get BUN_CONFIG_DNS_TIME_TO_LIVE_SECONDS=0: Service names resolve to pod IPs here
 * (hosts-file.ts), which change when pods are replaced, and Bun would otherwise cache a lookup for 30 s.
 */
import { existsSync, readFileSync } from "node:fs";
import * as v from "valibot";
import { KOROKD_IMAGE_ENV } from "../images/korokd-env";

const ruleSchema = v.object({
  repository: v.pipe(v.string(), v.minLength(1)),
  command: v.optional(v.array(v.string()), []),
  args: v.optional(v.array(v.string()), []),
  env: v.optional(v.record(v.string(), v.string()), {}),
  workingDir: v.optional(v.string()),
  ifExists: v.optional(v.string()),
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

const BUN_ENV = { BUN_CONFIG_DNS_TIME_TO_LIVE_SECONDS: "0" };
/** What the code-interpreter image sets, minus PATH (the node's own). */
const { PATH: _imagePath, ...korokdImageEnv } = KOROKD_IMAGE_ENV;
const KOROKD_ENV = { ...BUN_ENV, ...korokdImageEnv };

export const DEFAULT_IMAGE_RULES: readonly ImageRule[] = [
  { repository: "agentland/control-plane", command: ["{agentland}"], env: BUN_ENV },
  { repository: "*/agentland/control-plane", command: ["{agentland}"], env: BUN_ENV },
  {
    repository: "agentland/code-interpreter",
    command: ["{agentland}"],
    args: ["--mode=korokd"],
    env: KOROKD_ENV,
  },
  {
    repository: "*/agentland/code-interpreter",
    command: ["{agentland}"],
    args: ["--mode=korokd"],
    env: KOROKD_ENV,
  },
  {
    repository: "agentland/echo-agent",
    command: ["{bun}", "{repo}/e2e/fixtures/echo-agent.ts"],
    env: BUN_ENV,
  },
  // Like busybox: no entrypoint, CMD `sh`; pods give their own `command`.
  { repository: "agentland-fixtures/shell", args: ["/bin/sh"] },
  {
    repository: "agentland-fixtures/*",
    command: ["{bun}", "{repo}/e2e/fixtures/{1}.ts"],
    env: BUN_ENV,
    ifExists: "{repo}/e2e/fixtures/{1}.ts",
  },
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
    .join("(.*)");
  return new RegExp(`^${body}$`);
}

export function loadImageRules(path: string): ImageRule[] {
  const parsed = v.safeParse(fileSchema, JSON.parse(readFileSync(path, "utf8")));
  if (!parsed.success) throw new Error(`image map ${path}: ${parsed.issues[0].message}`);
  return parsed.output.rules;
}

export function createImageMap(rules: readonly ImageRule[], vars: ImageMapVars): ImageMap {
  const compiled = rules.map((rule) => ({ rule, re: globToRegExp(rule.repository) }));
  const find = (repository: string) => {
    for (const { rule, re } of compiled) {
      const match = re.exec(repository);
      // A wildcard never reaches outside the names it stands for.
      if (!match || match.slice(1).some((m) => m.includes(".."))) continue;
      if (rule.ifExists !== undefined && !existsSync(fillWith(rule.ifExists, vars, match))) continue;
      return { rule, match };
    }
    return undefined;
  };
  return {
    resolve(image) {
      const hit = find(imageRepository(image));
      if (!hit) return undefined;
      const { rule, match } = hit;
      const fill = (s: string) => fillWith(s, vars, match);
      const expand = (argv: readonly string[]) =>
        argv.flatMap((arg) => (arg === "{agentland}" ? [...vars.agentland] : [fill(arg)]));
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

function fillWith(s: string, vars: ImageMapVars, match: RegExpExecArray): string {
  return s
    .replaceAll("{repo}", vars.repo)
    .replaceAll("{bun}", vars.bun)
    .replaceAll("{1}", match[1] ?? "");
}
