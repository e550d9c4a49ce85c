/** References from one agentland object to another. */
import * as v from "valibot";
import { namespaceName, objectName } from "./schema/fields";

/** An object in the referring object's own namespace. */
export function localReference(description: string, what: string) {
  return v.pipe(v.object({ name: objectName(`Name of the ${what}.`) }), v.description(description));
}

/** An AgentRuntime, by name and (optionally) namespace. */
export function runtimeReference(description: string) {
  return v.pipe(
    v.object({
      name: objectName("Name of the AgentRuntime."),
      namespace: v.optional(
        namespaceName("Namespace of the AgentRuntime; defaults to this object's namespace."),
      ),
    }),
    v.description(description),
  );
}

export type LocalReference = v.InferOutput<ReturnType<typeof localReference>>;
export type RuntimeReference = v.InferOutput<ReturnType<typeof runtimeReference>>;
