/**
 * One valibot schema per mode. Each mode's issue adds the settings its component needs here;
 * `load-config.ts` parses flags and env against the schema of the selected mode.
 */
import * as v from "valibot";
import { durationMs, listenHost, logLevel, port } from "./settings";

/** Settings every mode has. `pod-*` come from the downward API (`POD_IP`, `POD_NAME`, `POD_NAMESPACE`). */
const common = {
  "listen-host": listenHost,
  "log-level": logLevel,
  "drain-timeout": durationMs("10s"),
  "pod-ip": v.optional(v.string()),
  "pod-name": v.optional(v.string()),
  "pod-namespace": v.optional(v.string()),
};

export const gatewaySettings = v.object({ ...common, "listen-port": port(8080) });

export const agentcoreSettings = v.object({ ...common, "listen-port": port(8082) });

export const korokdSettings = v.object({ ...common, "listen-port": port(1883) });

export const MODES = {
  gateway: gatewaySettings,
  agentcore: agentcoreSettings,
  korokd: korokdSettings,
} as const;

export type Mode = keyof typeof MODES;

export type GatewaySettings = v.InferOutput<typeof gatewaySettings>;
export type AgentcoreSettings = v.InferOutput<typeof agentcoreSettings>;
export type KorokdSettings = v.InferOutput<typeof korokdSettings>;
