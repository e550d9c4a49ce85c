import { describe, expect, test } from "bun:test";
import { createConcurrencyGate } from "./concurrency-gate";

describe("concurrency gate", () => {
  test("never more than max holders; waiters get slots in arrival order", async () => {
    const gate = createConcurrencyGate(2);
    const order: number[] = [];
    let holders = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const release = await gate.acquire();
        order.push(i);
        holders++;
        peak = Math.max(peak, holders);
        await Bun.sleep(5);
        holders--;
        release();
      }),
    );
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(gate.active).toBe(0);
    expect(gate.waited).toBe(6);
    expect(gate.waitedMs).toBeGreaterThan(0);
  });

  test("an aborted wait leaves the queue without taking a slot; a double release frees one slot", async () => {
    const gate = createConcurrencyGate(1);
    const release = await gate.acquire();
    const ctl = new AbortController();
    const waiting = gate.acquire(ctl.signal);
    expect(gate.waiting).toBe(1);
    ctl.abort(new Error("gone"));
    expect(waiting).rejects.toThrow("gone");
    expect(gate.waiting).toBe(0);
    release();
    release();
    expect(gate.active).toBe(0);
    const again = await gate.acquire();
    expect(gate.active).toBe(1);
    again();
  });
});
