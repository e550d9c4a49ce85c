/**
 * Template identity. Two templates that run the same pod must hash the same however they were written
 * (`cpu: 1` or `"1000m"`, keys in any order, defaults spelled out or left out), and two that run different
 * pods must not: a pool serves only claims whose template hash equals its own, never "any pod".
 */
import { createHash } from "node:crypto";
import * as v from "valibot";
import {
  type SandboxTemplate,
  type SandboxTemplateInput,
  sandboxTemplateSchema,
} from "../../api/sandbox-template";
import { parseQuantity } from "../../api/schema/quantity";

/** Hex digits kept: 64 bits, short enough for a label value and far from accidental collisions. */
const HASH_LENGTH = 16;

/**
 * The canonical form: defaults applied, quantities as plain numbers, object keys sorted. Array order is
 * kept where it means something (command, args, env — `$(VAR)` expansion reads earlier entries).
 */
export function normalizeTemplate(template: SandboxTemplateInput): unknown {
  const defaulted = v.parse(sandboxTemplateSchema, template);
  return canonical({ ...defaulted, resources: normalizeResources(defaulted.resources) });
}

/** `^[a-z0-9]{16}$`: fits `Sandbox.spec.templateHash` and the template-hash label. */
export function templateHash(template: SandboxTemplateInput): string {
  const text = JSON.stringify(normalizeTemplate(template));
  return createHash("sha256").update(text).digest("hex").slice(0, HASH_LENGTH);
}

function normalizeResources(resources: SandboxTemplate["resources"]): unknown {
  const list = (q: Readonly<Record<string, number | string>> | undefined) =>
    q === undefined
      ? undefined
      : Object.fromEntries(Object.entries(q).map(([name, value]) => [name, parseQuantity(value) ?? value]));
  return { requests: list(resources.requests), limits: list(resources.limits) };
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const item = (value as Record<string, unknown>)[key];
    if (item !== undefined) out[key] = canonical(item);
  }
  return out;
}
