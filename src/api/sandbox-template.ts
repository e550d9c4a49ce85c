/**
 * The sandbox template: how to run one sandbox pod. Shared by CodeInterpreter, AgentRuntime, AgentSession,
 * Sandbox, SandboxPool and SandboxClaim. It deliberately has no security settings: agentland hardens every
 * sandbox pod itself (non-root, read-only root filesystem, no capabilities, no service-account token).
 */
import * as v from "valibot";
import { celRule } from "./schema/cel-rule";
import { boundedString, int32, int64, nonEmptyString, quantity } from "./schema/fields";
import { nodeSelector, podAnnotations, podLabels, QUALIFIED_NAME_PATTERN } from "./schema/key-maps";
import { uniqueBy } from "./schema/list-map";
import { parseQuantity } from "./schema/quantity";

/** The port korokd (and, unless a template says otherwise, an agent) serves on. */
export const DEFAULT_SANDBOX_PORT = 1883;

const NO_WHITESPACE = /^[^\t\n\f\r ]+$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const KEY_NAME = /^[-._a-zA-Z0-9]+$/;
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function keySelector(what: "Secret" | "ConfigMap") {
  return v.pipe(
    v.object({
      name: v.pipe(
        v.string(),
        v.regex(SUBDOMAIN, "must be a DNS subdomain"),
        v.maxLength(253, "must be at most 253 characters"),
        v.description(`Name of the ${what} in the sandbox's namespace.`),
      ),
      key: v.pipe(
        v.string(),
        v.regex(KEY_NAME, "must be letters, digits, '-', '_' or '.'"),
        v.maxLength(253, "must be at most 253 characters"),
        v.description(`The key in the ${what} whose value becomes the variable's value.`),
      ),
      optional: v.optional(
        v.pipe(v.boolean(), v.description(`Start the pod even if the ${what} or key does not exist.`)),
      ),
    }),
    v.description(`Takes the value from a key of a ${what} in the sandbox's namespace.`),
  );
}

const envVarSource = v.pipe(
  v.object({
    secretKeyRef: v.optional(keySelector("Secret")),
    configMapKeyRef: v.optional(keySelector("ConfigMap")),
  }),
  celRule({
    rule: "has(self.secretKeyRef) != has(self.configMapKeyRef)",
    message: "exactly one of secretKeyRef and configMapKeyRef must be set",
    check: (self) => (self.secretKeyRef === undefined) !== (self.configMapKeyRef === undefined),
  }),
  v.description("Where the value comes from: a Secret key or a ConfigMap key."),
);

const envVar = v.pipe(
  v.object({
    name: v.pipe(
      v.string(),
      v.minLength(1, "must not be empty"),
      v.maxLength(128, "must be at most 128 characters"),
      v.regex(ENV_NAME, "must be letters, digits, '-', '_' or '.', not starting with a digit"),
      v.description("Name of the environment variable."),
    ),
    value: v.optional(boundedString("The literal value.", 4096)),
    valueFrom: v.optional(envVarSource),
  }),
  celRule({
    rule: "!has(self.value) || !has(self.valueFrom)",
    message: "value and valueFrom are mutually exclusive",
    check: (self) => self.value === undefined || self.valueFrom === undefined,
  }),
  v.description("An environment variable of the sandbox container."),
);

const toleration = v.pipe(
  v.object({
    key: v.optional(
      v.pipe(
        v.string(),
        v.maxLength(317, "must be at most 317 characters"),
        v.regex(new RegExp(QUALIFIED_NAME_PATTERN), "must be a qualified name"),
        v.description(
          "The taint key this toleration matches; empty with operator Exists matches every taint.",
        ),
      ),
    ),
    operator: v.optional(
      v.pipe(
        v.picklist(["Exists", "Equal"]),
        v.description("Equal matches taints with this key and value; Exists matches any value."),
      ),
      "Equal",
    ),
    value: v.optional(boundedString("The taint value to match (operator Equal).", 63)),
    effect: v.optional(
      v.pipe(
        v.picklist(["NoSchedule", "PreferNoSchedule", "NoExecute"]),
        v.description("The taint effect to match; empty matches every effect."),
      ),
    ),
    tolerationSeconds: v.optional(
      int64("With effect NoExecute: how long the pod stays bound after the taint appears.", 0),
    ),
  }),
  celRule({
    rule: "self.operator == 'Exists' ? (!has(self.value) || self.value == '') : has(self.key)",
    message: "operator Exists takes no value; operator Equal needs a key",
    check: (self) => (self.operator === "Exists" ? !self.value : self.key !== undefined),
  }),
  v.description("Lets the sandbox pod schedule onto nodes with a matching taint."),
);

const resourceList = (what: string) =>
  v.pipe(
    v.record(v.string(), quantity("A quantity of the resource, e.g. 500m CPU or 256Mi memory.")),
    v.maxEntries(16, "at most 16 entries"),
    v.description(`${what} per resource name (cpu, memory, ephemeral-storage, …).`),
  );

const resources = v.pipe(
  v.object({
    requests: v.optional(resourceList("Resources the scheduler reserves for the sandbox")),
    limits: v.optional(resourceList("The most the sandbox may use")),
  }),
  celRule({
    rule:
      "!has(self.requests) || !has(self.limits) || self.requests.all(k, !(k in self.limits) || " +
      "quantity(string(self.requests[k])).compareTo(quantity(string(self.limits[k]))) <= 0)",
    message: "a request must not exceed the limit of the same resource",
    check: ({ requests = {}, limits = {} }) =>
      Object.entries(requests).every(([k, request]) => {
        const limit = limits[k];
        return limit === undefined || (parseQuantity(request) ?? 0) <= (parseQuantity(limit) ?? 0);
      }),
  }),
  v.description("Compute resources of the sandbox container. When absent, agentland's defaults apply."),
);

const DEFAULT_RESOURCES = {
  requests: { cpu: "100m", memory: "128Mi" },
  limits: { cpu: "1", memory: "512Mi" },
};

export const sandboxTemplateSchema = v.pipe(
  v.object({
    image: v.pipe(
      nonEmptyString("Container image of the sandbox, e.g. agentland/code-interpreter:0.1.0.", 512),
      v.regex(NO_WHITESPACE, "must not contain whitespace"),
    ),
    command: v.optional(
      v.pipe(
        v.array(boundedString("One argument.", 4096)),
        v.maxLength(64, "at most 64 items"),
        v.description("Replaces the image's entrypoint."),
      ),
    ),
    args: v.optional(
      v.pipe(
        v.array(boundedString("One argument.", 4096)),
        v.maxLength(64, "at most 64 items"),
        v.description("Arguments to the entrypoint (replaces the image's CMD)."),
      ),
    ),
    env: v.optional(
      v.pipe(
        v.array(envVar),
        v.maxLength(128, "at most 128 items"),
        uniqueBy("name"),
        v.description("Environment variables of the sandbox container; names are unique."),
      ),
    ),
    port: v.optional(
      int32(
        "The port the sandbox serves on (korokd, or the agent's HTTP server). The gateway proxies to it and " +
          "it is the only port the sandbox NetworkPolicy admits.",
        1,
        65535,
      ),
      DEFAULT_SANDBOX_PORT,
    ),
    readinessPath: v.optional(
      v.pipe(
        v.string(),
        v.maxLength(256, "must be at most 256 characters"),
        v.regex(/^\/[^\t\n\f\r ]*$/, "must be a path starting with /"),
        v.description(
          "HTTP path on the port that answers 2xx once the sandbox can serve. When absent, the sandbox is " +
            "ready once the port accepts TCP connections.",
        ),
      ),
    ),
    resources: v.optional(resources, DEFAULT_RESOURCES),
    runtimeClassName: v.optional(
      v.pipe(
        v.string(),
        v.regex(SUBDOMAIN, "must be a DNS subdomain"),
        v.maxLength(253, "must be at most 253 characters"),
        v.description("RuntimeClass for stronger isolation, e.g. gvisor or kata, where the cluster has one."),
      ),
    ),
    nodeSelector: v.optional(nodeSelector("Node labels the sandbox pod must be scheduled onto.")),
    tolerations: v.optional(
      v.pipe(
        v.array(toleration),
        v.maxLength(32, "at most 32 items"),
        v.description("Taints the pod tolerates."),
      ),
    ),
    labels: v.optional(podLabels("Extra labels for the sandbox pod. Reserved keys are refused.")),
    annotations: v.optional(
      podAnnotations("Extra annotations for the sandbox pod. Reserved keys are refused."),
    ),
  }),
  v.description("How to run one sandbox pod."),
);

export type SandboxTemplate = v.InferOutput<typeof sandboxTemplateSchema>;
export type SandboxTemplateInput = v.InferInput<typeof sandboxTemplateSchema>;
