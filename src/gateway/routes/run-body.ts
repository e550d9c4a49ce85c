/** The body of `POST /api/code-runner/run`, validated at the edge before any session is touched. */
import * as v from "valibot";

const EnvName = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "env names must be shell identifiers"),
);

export const RunBody = v.object(
  {
    language: v.pipe(
      v.string("language is required and must be a string"),
      v.nonEmpty("language must not be empty"),
      v.maxLength(64, "language is too long"),
    ),
    code: v.string("code is required and must be a string"),
    timeout_ms: v.optional(
      v.pipe(
        v.number("timeout_ms must be a number"),
        v.integer("timeout_ms must be a whole number"),
        v.minValue(1, "timeout_ms must be positive"),
      ),
    ),
    context_id: v.optional(
      v.pipe(
        v.string("context_id must be a string"),
        v.regex(/^[A-Za-z0-9_-]{1,128}$/, "context_id is malformed"),
      ),
    ),
    env: v.optional(
      v.record(EnvName, v.string("env values must be strings"), "env must be an object of strings"),
    ),
  },
  "the body must be a JSON object",
);

export type RunBody = v.InferOutput<typeof RunBody>;
