/**
 * A second cluster runs beside the shared test cluster, a stale cluster of the same name is replaced,
 * and `down` leaves no process or directory behind.
 */
import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { testCluster } from "../harness/test-cluster";
import { clusterDir } from "./cluster-state";
import { clusterDown, clusterUp } from "./control-plane";
import { isAlive, processesMentioning } from "./processes";

test("two clusters run side by side; up replaces a stale one; down leaves nothing behind", async () => {
  const shared = testCluster();
  const name = `lifecycle-${process.pid}`;
  const quiet = () => {};
  try {
    const first = await clusterUp({ name, withNode: false, log: quiet });
    expect(first.server).not.toBe(shared.server);
    const firstPids = Object.values(first.pids);
    expect(firstPids.every(isAlive)).toBe(true);

    const second = await clusterUp({ name, withNode: false, log: quiet });
    expect(firstPids.some(isAlive)).toBe(false);
    expect(Object.values(second.pids).every(isAlive)).toBe(true);
    const res = await fetch(`${shared.server}/readyz`, { tls: { rejectUnauthorized: false } } as RequestInit);
    expect(res.status).toBe(200);
  } finally {
    await clusterDown(name);
  }
  expect(processesMentioning(clusterDir(name))).toEqual([]);
  expect(existsSync(clusterDir(name))).toBe(false);
}, 120_000);
