import { describe, expect, test } from "bun:test";
import { onlyGenerationMoved, statusPatch } from "./status-patch";

describe("statusPatch", () => {
  test("an unchanged status yields no patch (a converged object gets no write)", () => {
    const current = { phase: "Ready", conditions: [{ type: "Ready", status: "True" }], port: 1 };
    expect(statusPatch(current, structuredClone(current))).toBeUndefined();
  });

  test("only changed fields are sent; fields no longer wanted are nulled", () => {
    expect(statusPatch({ phase: "Pending", podIP: "1.2.3.4", port: 1 }, { phase: "Ready", port: 1 })).toEqual(
      {
        phase: "Ready",
        podIP: null,
      },
    );
  });

  test("fields another writer owns are never sent or nulled", () => {
    const current = { phase: "Ready", lastActivityTime: "2030-01-01T00:00:00Z" };
    expect(statusPatch(current, { phase: "Ready" }, ["lastActivityTime"])).toBeUndefined();
    expect(statusPatch(current, { phase: "Failed", lastActivityTime: "x" }, ["lastActivityTime"])).toEqual({
      phase: "Failed",
    });
  });

  test("a status that only catches up with a new generation is told apart from a real change", () => {
    const at = (gen: number, phase = "Ready") => ({
      phase,
      conditions: [{ type: "Ready", status: "True", observedGeneration: gen }],
      observedGeneration: gen,
    });
    expect(onlyGenerationMoved(at(1), at(2))).toBe(true);
    expect(onlyGenerationMoved(at(1), at(1))).toBe(false);
    expect(onlyGenerationMoved(at(1), at(2, "Failed"))).toBe(false);
    expect(onlyGenerationMoved(undefined, at(2))).toBe(false);
  });
});
