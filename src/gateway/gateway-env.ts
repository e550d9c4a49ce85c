/** The Hono environment of the gateway app: Bun's server as bindings, per-request values as variables. */
import type { Server } from "bun";

export interface GatewayVariables {
  /** `x-request-id` of this request (the client's when well-formed, else generated). */
  requestId: string;
  /** The authenticated client principal. */
  principal: string;
  /** Session this request belongs to, once known (echoed in `x-agentland-session`, also on errors). */
  sessionId: string | undefined;
}

export interface GatewayEnv {
  // biome-ignore lint/suspicious/noExplicitAny: Bun's websocket data type is chosen per server.
  Bindings: Server<any>;
  Variables: GatewayVariables;
}
