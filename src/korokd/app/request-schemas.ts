/** Request bodies, parsed once at the edge; inner code only sees these typed values. */
import * as v from "valibot";
import { KorokdError } from "../korokd-error";

const EnvSchema = v.record(
  v.pipe(v.string(), v.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "env names must be shell identifiers")),
  v.pipe(
    v.string("env values must be strings"),
    v.check((s) => !s.includes("\0"), "env values must not contain NUL"),
  ),
);

export const ExecuteBody = v.object({
  language: v.string("language must be a string"),
  code: v.string("code must be a string"),
  timeout_ms: v.optional(
    v.pipe(v.number("timeout_ms must be a number"), v.integer("timeout_ms must be whole"), v.minValue(1)),
  ),
  env: v.optional(EnvSchema),
  context_id: v.optional(v.pipe(v.string(), v.nonEmpty("context_id must not be empty"))),
});
export type ExecuteBody = v.InferOutput<typeof ExecuteBody>;

export const CreateContextBody = v.object({
  language: v.string("language must be a string"),
  env: v.optional(EnvSchema),
});
export type CreateContextBody = v.InferOutput<typeof CreateContextBody>;

/** Reads a JSON body and validates it; any problem is a 400 naming the field. */
export async function parseBody<S extends v.GenericSchema>(
  request: Request,
  schema: S,
): Promise<v.InferOutput<S>> {
  let json: unknown;
  try {
    json = await request.json();
  } catch (err) {
    throw new KorokdError("invalid_request", "the body must be a JSON object", { cause: err });
  }
  const parsed = v.safeParse(schema, json);
  if (parsed.success) return parsed.output;
  const issue = parsed.issues[0];
  const path = issue.path?.map((p) => String(p.key)).join(".");
  throw new KorokdError("invalid_request", path ? `${path}: ${issue.message}` : issue.message);
}
