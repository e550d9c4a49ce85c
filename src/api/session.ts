/**
 * What CodeInterpreter and AgentSession share: lifetime settings and the session status. The gateway proxies
 * only to the pod named in this status, never to an address from a request.
 */
import * as v from "valibot";
import { conditionsSchema } from "./condition";
import { celRule } from "./schema/cel-rule";
import { DURATION_PATTERN, parseDurationNs } from "./schema/duration";
import { boundedString, duration, int32, int64, objectName, timestamp } from "./schema/fields";

export const DEFAULT_SESSION_TIMEOUT = "15m";
export const DEFAULT_MAX_SESSION_DURATION = "2h";

export const sessionTimeout = duration(
  "How long the session may stay idle (no request or stream through the gateway) before agentcore deletes it.",
  { min: "30s", max: "24h" },
);

export const maxSessionDuration = duration(
  "How long after creation agentcore deletes the session, idle or not.",
  { min: "1m", max: "168h" },
);

interface Timeouts {
  readonly sessionTimeout?: string | undefined;
  readonly maxSessionDuration?: string | undefined;
}

/**
 * An idle timeout longer than the whole lifetime is a mistake worth reporting, not silently capping. The
 * pattern guards keep CEL from a conversion error on a malformed duration, which its field already reports.
 */
export function timeoutsInOrder<T extends Timeouts>() {
  return celRule<T>({
    rule:
      "!has(self.sessionTimeout) || !has(self.maxSessionDuration) || " +
      `!self.sessionTimeout.matches('${DURATION_PATTERN}') || !self.maxSessionDuration.matches('${DURATION_PATTERN}') || ` +
      "duration(self.sessionTimeout) <= duration(self.maxSessionDuration)",
    message: "sessionTimeout must not exceed maxSessionDuration",
    fieldPath: ".sessionTimeout",
    check: ({ sessionTimeout: idle, maxSessionDuration: max }) =>
      idle === undefined || max === undefined || (parseDurationNs(idle) ?? 0) <= (parseDurationNs(max) ?? 0),
  });
}

export const SESSION_PHASES = ["Pending", "Ready", "Failed", "Terminating"] as const;
export type SessionPhase = (typeof SESSION_PHASES)[number];

export const sessionStatusSchema = v.pipe(
  v.object({
    phase: v.optional(
      v.pipe(
        v.picklist(SESSION_PHASES),
        v.description(
          "Summary for humans: Pending until the sandbox pod is Ready, then Ready; Failed when it cannot " +
            "become Ready; Terminating while being deleted. Programs should read conditions.",
        ),
      ),
    ),
    conditions: v.optional(conditionsSchema),
    observedGeneration: v.optional(int64("The .metadata.generation this status reflects.", 0)),
    sandboxName: v.optional(objectName("The Sandbox serving this session.")),
    claimName: v.optional(objectName("The SandboxClaim, when the sandbox came from a pool.")),
    podName: v.optional(objectName("The sandbox pod.")),
    podIP: v.optional(boundedString("IP address of the sandbox pod.", 45)),
    port: v.optional(int32("Port on podIP where the sandbox serves.", 1, 65535)),
    startTime: v.optional(timestamp("When the session first became Ready.")),
    lastActivityTime: v.optional(
      timestamp("Last request or stream activity the gateway reported; idle time is measured from here."),
    ),
    expiresAt: v.optional(timestamp("When the session will be deleted for reaching maxSessionDuration.")),
  }),
  v.description("Observed state of the session."),
);

export type SessionStatus = v.InferOutput<typeof sessionStatusSchema>;
