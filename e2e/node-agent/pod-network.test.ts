import { describe, expect, test } from "bun:test";
import { createPodIpPool, inPodNetwork, parsePodNetwork, podNetwork, podNetworkFor } from "./pod-network";

describe("pod networks", () => {
  test("each cluster/node pair gets a stable /16 in 127.16-239, away from 127.0.x.x", () => {
    const a = podNetworkFor("dev", "agentland-node-dev");
    expect(podNetworkFor("dev", "agentland-node-dev")).toEqual(a);
    const seconds = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const n = podNetworkFor(`c${i}`, "node");
      expect(n.secondOctet).toBeGreaterThanOrEqual(16);
      expect(n.secondOctet).toBeLessThanOrEqual(239);
      expect(n.cidr).toBe(`127.${n.secondOctet}.0.0/16`);
      seconds.add(n.secondOctet);
    }
    // Spread: 200 names land on many different networks.
    expect(seconds.size).toBeGreaterThan(100);
  });

  test("only 127.N.0.0/16 parses as a pod network", () => {
    expect(parsePodNetwork("127.42.0.0/16")).toEqual(podNetwork(42));
    for (const bad of ["10.0.0.0/16", "127.42.0.0/24", "127.0.0.0", "127.300.0.0/16", "127.0.0.0/16"]) {
      expect(() => parsePodNetwork(bad)).toThrow();
    }
  });
});

describe("the pod IP pool", () => {
  test("hands out distinct addresses inside the network, never .0 or .255", () => {
    const pool = createPodIpPool(podNetwork(50));
    const ips = Array.from({ length: 600 }, (_, i) => pool.allocate(`pod-${i}`));
    expect(new Set(ips).size).toBe(600);
    for (const ip of ips) {
      expect(inPodNetwork(pool.network, ip)).toBe(true);
      const last = Number(ip.split(".")[3]);
      expect(last).toBeGreaterThanOrEqual(1);
      expect(last).toBeLessThanOrEqual(254);
    }
    expect(pool.inUse().get(ips[7] as string)).toBe("pod-7");
  });

  test("an address is never reused while in use, and a released one comes back last", () => {
    const pool = createPodIpPool(podNetwork(51));
    const first = pool.allocate("a");
    const second = pool.allocate("b");
    pool.release(first);
    const third = pool.allocate("c");
    expect([first, second]).not.toContain(third);
    expect(pool.inUse().size).toBe(2);
  });

  test("addresses someone else already listens on are skipped", () => {
    const pool = createPodIpPool(podNetwork(52));
    const ip = pool.allocate("a", (candidate) => candidate.endsWith(".0.1") || candidate.endsWith(".0.2"));
    expect(ip).toBe("127.52.0.3");
  });

  test("reserve keeps a pod's existing address, but not one in use by another pod or outside the network", () => {
    const pool = createPodIpPool(podNetwork(53));
    expect(pool.reserve("127.53.4.4", "a")).toBe(true);
    expect(pool.reserve("127.53.4.4", "a")).toBe(true);
    expect(pool.reserve("127.53.4.4", "b")).toBe(false);
    expect(pool.reserve("127.54.4.4", "b")).toBe(false);
    expect(pool.reserve("10.0.0.1", "b")).toBe(false);
  });
});
