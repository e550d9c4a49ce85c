import { describe, expect, test } from "bun:test";
import { type PoolMember, planPool } from "./pool-plan";

const NOW = 1_000_000;
const member = (name: string, state: PoolMember["state"], current = true, createdAt = 0): PoolMember => ({
  name,
  state,
  current,
  createdAt,
});
const plan = (replicas: number, members: PoolMember[], pendingCreates = 0) =>
  planPool({ replicas, members, pendingCreates, now: NOW, failedHoldMs: 5_000 });

describe("pool plan", () => {
  test("an empty pool creates all its replicas at once", () => {
    expect(plan(5, [])).toEqual({ create: 5, delete: [] });
  });

  test("sandboxes created but not yet seen are counted: a stale cache never over-creates", () => {
    expect(plan(5, [member("a", "Pending")], 4)).toEqual({ create: 0, delete: [] });
    expect(plan(5, [member("a", "Pending")], 2)).toEqual({ create: 2, delete: [] });
  });

  test("scaling down removes not-ready sandboxes first, then the youngest", () => {
    const members = [
      member("old-ready", "Ready", true, 1),
      member("young-ready", "Ready", true, 3),
      member("pending", "Pending", true, 2),
    ];
    expect(plan(2, members).delete).toEqual(["pending"]);
    expect(plan(1, members).delete).toEqual(["pending", "young-ready"]);
  });

  test("a template rollout never lowers the number of Ready sandboxes", () => {
    // Simulate a pool of 3 rolling out: each step applies the plan, then one pending sandbox becomes Ready.
    let members: PoolMember[] = [
      member("o1", "Ready", false),
      member("o2", "Ready", false),
      member("o3", "Ready", false),
    ];
    let created = 0;
    for (let step = 0; step < 10; step++) {
      const p = plan(3, members);
      members = members.filter((m) => !p.delete.includes(m.name));
      for (let i = 0; i < p.create; i++) members.push(member(`n${created++}`, "Pending", true, step));
      expect(members.filter((m) => m.state === "Ready").length).toBeGreaterThanOrEqual(3);
      const next = members.find((m) => m.state === "Pending");
      if (next) members = members.map((m) => (m === next ? { ...m, state: "Ready" } : m));
    }
    expect(members.every((m) => m.current && m.state === "Ready")).toBe(true);
    expect(members).toHaveLength(3);
    expect(created).toBe(3);
  });

  test("not-ready sandboxes of an old template are replaced at once", () => {
    expect(plan(2, [member("o1", "Pending", false), member("o2", "Ready", false)])).toEqual({
      create: 2,
      delete: ["o1"],
    });
  });

  test("a failed sandbox holds its slot for a while, then is replaced", () => {
    const failedJustNow = { ...member("f", "Failed"), failedAt: NOW - 1_000 };
    expect(plan(1, [failedJustNow])).toEqual({ create: 0, delete: [], recheckAfterMs: 4_000 });
    const failedLongAgo = { ...member("f", "Failed"), failedAt: NOW - 10_000 };
    expect(plan(1, [failedLongAgo])).toEqual({ create: 1, delete: ["f"] });
  });
});
