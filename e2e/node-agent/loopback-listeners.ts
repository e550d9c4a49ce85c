/**
 * Which loopback addresses have listening TCP sockets, read from /proc/net/tcp. The IP pool skips
 * addresses someone else listens on, and tests use it to prove a stopped node left no pod IP in use.
 */
import { readFileSync } from "node:fs";

const LISTEN = "0A";

/** IPv4 addresses with at least one socket in LISTEN state (any port). */
export function listeningAddresses(): Set<string> {
  const found = new Set<string>();
  let text: string;
  try {
    text = readFileSync("/proc/net/tcp", "utf8");
  } catch {
    return found;
  }
  for (const line of text.split("\n").slice(1)) {
    const cols = line.trim().split(/\s+/);
    const local = cols[1];
    if (!local || cols[3] !== LISTEN) continue;
    found.add(hexToIpv4(local.slice(0, 8)));
  }
  return found;
}

/** /proc/net/tcp prints the address as one little-endian 32-bit hex word. */
export function hexToIpv4(hex: string): string {
  const n = Number.parseInt(hex, 16);
  return [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255].join(".");
}
