import { describe, expect, test } from "bun:test";
import type { SessionObject } from "../sessions/session-kinds";
import { gcDeadline } from "./gc-policy";

const T0 = Date.parse("2026-01-01T00:00:00Z");
const iso = (offsetMs: number) => new Date(T0 + offsetMs).toISOString();
const settings = { createTimeoutMs: 60_000, failedRetentionMs: 60_000 };

function session(spec: Record<string, string>, status: Record<string, unknown>): SessionObject {
  return {
    apiVersion: "agentland.fl0rencess720.app/v1alpha1",
    kind: "CodeInterpreter",
    metadata: { name: "ci-x", namespace: "ns", creationTimestamp: iso(0) },
    spec: {
      provisioning: { mode: "PoolPreferred" },
      sessionTimeout: "15m",
      maxSessionDuration: "2h",
      ...spec,
    },
    status,
  } as SessionObject;
}

describe("GC deadlines come from each session's own fields", () => {
  test("an idle session expires sessionTimeout after its last recorded activity", () => {
    const s = session(
      { sessionTimeout: "30s" },
      { phase: "Ready", startTime: iso(1_000), lastActivityTime: iso(50_000) },
    );
    expect(gcDeadline(s, settings)).toEqual({ at: T0 + 80_000, reason: "IdleTimeout" });
  });

  test("a session with no activity yet is idle from when it became Ready", () => {
    const s = session({ sessionTimeout: "1m" }, { phase: "Ready", startTime: iso(2_000) });
    expect(gcDeadline(s, settings)).toEqual({ at: T0 + 62_000, reason: "IdleTimeout" });
  });

  test("a constantly busy session still ends at maxSessionDuration", () => {
    const s = session(
      { sessionTimeout: "10m", maxSessionDuration: "1h" },
      { phase: "Ready", startTime: iso(0), lastActivityTime: iso(3_590_000) },
    );
    expect(gcDeadline(s, settings)).toEqual({ at: T0 + 3_600_000, reason: "MaxSessionDuration" });
  });

  test("a failed session is kept only for the retention after it failed", () => {
    const failed = {
      phase: "Failed",
      conditions: [
        {
          type: "Ready",
          status: "False",
          reason: "ImageNotRunnable",
          message: "",
          lastTransitionTime: iso(5_000),
        },
      ],
    };
    expect(gcDeadline(session({}, failed), settings)).toEqual({ at: T0 + 65_000, reason: "Failed" });
  });

  test("a session that never became Ready is removed after the create timeout plus retention", () => {
    expect(gcDeadline(session({}, { phase: "Pending" }), settings)).toEqual({
      at: T0 + 120_000,
      reason: "NeverReady",
    });
  });

  test("defaults apply when the spec leaves the timeouts out", () => {
    const s = session({}, { phase: "Ready", startTime: iso(0) });
    delete (s.spec as { sessionTimeout?: string }).sessionTimeout;
    expect(gcDeadline(s, settings)).toEqual({ at: T0 + 15 * 60_000, reason: "IdleTimeout" });
  });
});
