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

describe("concurrency gate priorities", () => {
  /** Takes a slot now or records when the queued caller got one. */
  const take = (
    gate: ReturnType<typeof createConcurrencyGate>,
    log: string[],
    label: string,
    p?: "interactive",
  ) =>
    gate.acquire(undefined, p).then((release) => {
      log.push(label);
      return release;
    });

  test("a freed slot goes to a waiting interactive caller before earlier normal ones", async () => {
    const gate = createConcurrencyGate(2, { normalWhileInteractive: 2 });
    const log: string[] = [];
    const held = [await take(gate, log, "n0"), await take(gate, log, "n1")];
    const [n2, i0, n3] = [take(gate, log, "n2"), take(gate, log, "i0", "interactive"), take(gate, log, "n3")];
    expect(gate.waiting).toBe(3);
    held[0]?.();
    await Bun.sleep(0);
    expect(log).toEqual(["n0", "n1", "i0"]);
    held[1]?.();
    await Bun.sleep(0);
    expect(log).toEqual(["n0", "n1", "i0", "n2"]);
    for (const r of await Promise.all([n2, i0])) r();
    await Bun.sleep(0);
    expect(log.at(-1)).toBe("n3");
    (await n3)();
    expect(gate.active).toBe(0);
  });

  test("normal callers keep only their share while interactive ones are busy, and all of it after", async () => {
    const gate = createConcurrencyGate(8, { normalWhileInteractive: 2 });
    const log: string[] = [];
    const interactive = await take(gate, log, "i0", "interactive");
    const normal = Array.from({ length: 5 }, (_, i) => take(gate, log, `n${i}`));
    await Bun.sleep(0);
    // Six slots are free, yet only two normal callers hold one while the interactive caller does.
    expect(gate.active).toBe(3);
    expect(gate.waiting).toBe(3);
    interactive();
    await Bun.sleep(0);
    expect(gate.active).toBe(5);
    expect(gate.waiting).toBe(0);
    for (const r of await Promise.all(normal)) r();
    expect(gate.active).toBe(0);
  });

  test("an interactive waiter that gives up no longer holds normal callers to their share", async () => {
    const gate = createConcurrencyGate(2, { normalWhileInteractive: 1 });
    const log: string[] = [];
    const held = [await take(gate, log, "n0"), await take(gate, log, "n1")];
    const ctl = new AbortController();
    const gaveUp = gate.acquire(ctl.signal, "interactive");
    const normal = [take(gate, log, "n2"), take(gate, log, "n3")];
    ctl.abort(new Error("caller left"));
    expect(gaveUp).rejects.toThrow("caller left");
    for (const r of held) r();
    await Bun.sleep(0);
    // Both freed slots go to normal callers: nothing interactive is left to keep a share for.
    expect(log).toEqual(["n0", "n1", "n2", "n3"]);
    for (const r of await Promise.all(normal)) r();
    expect(gate.active).toBe(0);
  });
});
