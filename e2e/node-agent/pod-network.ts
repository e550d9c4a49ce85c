/**
 * Pod IPs for the host-process node: unique loopback addresses, so every pod can bind the same container
 * port on its own address (Linux routes all of 127.0.0.0/8 to `lo`, no configuration needed).
 *
 * Each node gets a /16, `127.N.0.0/16`, with N derived from the cluster and node name, so clusters and
 * extra test nodes on one machine do not hand out the same addresses (N avoids 127.0.x.x, where
 * localhost services such as 127.0.0.1 and 127.0.0.53 live). An address is never handed out while in
 * use, and the cursor moves on after a release, so a just-freed address is the last to be reused.
 */
import { createHash } from "node:crypto";

/** Second octets a node may use: 16..239 (224 networks). */
const FIRST_NET = 16;
const NETS = 224;
/** Hosts per /16, excluding .0 and .255 in the last octet (they confuse humans, not the kernel). */
const HOSTS = 256 * 254;

export interface PodNetwork {
  /** e.g. `127.93.0.0/16` */
  readonly cidr: string;
  readonly secondOctet: number;
}

export function podNetworkFor(clusterName: string, nodeName: string): PodNetwork {
  const digest = createHash("sha256").update(`${clusterName}/${nodeName}`).digest();
  return podNetwork(FIRST_NET + (digest.readUInt32BE(0) % NETS));
}

export function podNetwork(secondOctet: number): PodNetwork {
  if (!Number.isInteger(secondOctet) || secondOctet < 1 || secondOctet > 254) {
    throw new RangeError(`pod network second octet must be 1..254, got ${secondOctet}`);
  }
  return { cidr: `127.${secondOctet}.0.0/16`, secondOctet };
}

/** Parses `127.N.0.0/16` (the only shape a pod network can have). */
export function parsePodNetwork(cidr: string): PodNetwork {
  const m = /^127\.(\d{1,3})\.0\.0\/16$/.exec(cidr);
  if (!m) throw new RangeError(`pod network must look like 127.N.0.0/16, got "${cidr}"`);
  return podNetwork(Number(m[1]));
}

export function inPodNetwork(net: PodNetwork, ip: string): boolean {
  const parts = ip.split(".");
  return parts.length === 4 && parts[0] === "127" && parts[1] === String(net.secondOctet);
}

export interface PodIpPool {
  readonly network: PodNetwork;
  /** A free address for `owner` (a pod UID); `busy` may veto addresses someone else already uses. */
  allocate(owner: string, busy?: (ip: string) => boolean): string;
  /** Takes a specific address (a pod that already has one); false if it is taken or not ours. */
  reserve(ip: string, owner: string): boolean;
  release(ip: string): void;
  /** Address → owner, for every address in use. */
  inUse(): ReadonlyMap<string, string>;
}

export function createPodIpPool(network: PodNetwork): PodIpPool {
  const used = new Map<string, string>();
  let cursor = 0;
  const ipAt = (index: number) =>
    `127.${network.secondOctet}.${Math.floor(index / 254)}.${(index % 254) + 1}`;
  return {
    network,
    allocate(owner, busy) {
      for (let tried = 0; tried < HOSTS; tried++) {
        const ip = ipAt(cursor);
        cursor = (cursor + 1) % HOSTS;
        if (used.has(ip) || busy?.(ip)) continue;
        used.set(ip, owner);
        return ip;
      }
      throw new Error(`pod network ${network.cidr} is exhausted (${used.size} addresses in use)`);
    },
    reserve(ip, owner) {
      if (!inPodNetwork(network, ip)) return false;
      const holder = used.get(ip);
      if (holder !== undefined) return holder === owner;
      used.set(ip, owner);
      return true;
    },
    release(ip) {
      used.delete(ip);
    },
    inUse: () => used,
  };
}
