/**
 * The real node's network on the host side: a bridge holding the pod subnet's gateway address (also the
 * node IP), and one iptables chain that sends the `kubernetes` Service address (10.96.0.1:443) to the
 * apiserver on loopback. There is no kube-proxy and no masquerading, and IP forwarding stays as it is:
 * pods reach each other over the bridge and the host's bridge address, and nothing else.
 */
import { existsSync, writeFileSync } from "node:fs";
import type { NodeLayout } from "./node-layout";

export const API_SERVICE_IP = "10.96.0.1";

function sh(argv: string[], allowFail = false): { ok: boolean; out: string } {
  const r = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  const ok = r.exitCode === 0;
  if (!ok && !allowFail) throw new Error(`${argv.join(" ")} failed: ${r.stderr.toString().trim()}`);
  return { ok, out: r.stdout.toString() };
}

export function bridgeUp(l: NodeLayout): void {
  sh(["ip", "link", "add", l.bridge, "type", "bridge"]);
  sh(["ip", "addr", "add", `${l.gatewayIP}/24`, "dev", l.bridge]);
  sh(["ip", "link", "set", l.bridge, "up"]);
  // Lets a DNAT to 127.0.0.1 (the apiserver listens only there) apply to packets arriving on the bridge.
  writeFileSync(`/proc/sys/net/ipv4/conf/${l.bridge}/route_localnet`, "1");
}

/** The `kubernetes` Service's address for pods of this node: DNAT to the apiserver's loopback port. */
export function apiserverRoute(l: NodeLayout, apiPort: number): void {
  const c = l.iptablesChain;
  sh(["iptables", "-w", "-t", "nat", "-N", c]);
  sh(["iptables", "-w", "-t", "nat", "-A", "PREROUTING", "-i", l.bridge, "-j", c]);
  sh([
    "iptables",
    "-w",
    "-t",
    "nat",
    "-A",
    c,
    "-d",
    `${API_SERVICE_IP}/32`,
    "-p",
    "tcp",
    "--dport",
    "443",
    "-j",
    "DNAT",
    "--to-destination",
    `127.0.0.1:${apiPort}`,
  ]);
}

/** Removes the chain, its jump and the bridge; each step tolerates being already gone. */
export function networkDown(l: NodeLayout): void {
  const c = l.iptablesChain;
  while (sh(["iptables", "-w", "-t", "nat", "-D", "PREROUTING", "-i", l.bridge, "-j", c], true).ok) {
    // a crashed run may have added the jump more than once
  }
  sh(["iptables", "-w", "-t", "nat", "-F", c], true);
  sh(["iptables", "-w", "-t", "nat", "-X", c], true);
  if (existsSync(`/sys/class/net/${l.bridge}`)) sh(["ip", "link", "del", l.bridge], true);
}
