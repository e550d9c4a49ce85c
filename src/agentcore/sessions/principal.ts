/**
 * Sessions are bound to the client principal that created them. The CR carries only a hash of it (an
 * annotation), so neither object listings nor audit logs reveal API key owners' identities.
 */
import { createHash } from "node:crypto";

export function principalHash(principal: string): string {
  return createHash("sha256").update(principal).digest("hex");
}
