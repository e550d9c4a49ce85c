/** Probes against real sockets: what counts as success, and what the failure message says. */
import { afterAll, describe, expect, test } from "bun:test";
import type { Container } from "./pod-types";
import { runHandler } from "./probe";
import { nextProbeState } from "./probe-worker";

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(req) {
    const path = new URL(req.url).pathname;
    if (path === "/ok") return new Response("ok");
    if (path === "/redirect")
      return new Response(null, { status: 302, headers: { location: "http://elsewhere.invalid/" } });
    if (path === "/header")
      return new Response(null, { status: req.headers.get("x-probe") === "yes" ? 200 : 401 });
    if (path === "/slow") await Bun.sleep(2000);
    return new Response("broken", { status: 500 });
  },
});
afterAll(() => server.stop(true));

const container: Container = { name: "c", ports: [{ name: "http", containerPort: server.port as number }] };
const ctx = {
  podIP: "127.0.0.1",
  container,
  exec: async (command: readonly string[]) => ({
    exitCode: command[0] === "true" ? 0 : 1,
    output: "nope",
    timedOut: false,
  }),
};
const http = (path: string, extra: object = {}) => ({ httpGet: { path, port: "http", ...extra } });

describe("probe handlers", () => {
  test("httpGet: 2xx and 3xx succeed (redirects are not followed), others fail with the status", async () => {
    expect(await runHandler(http("/ok"), ctx, 1000)).toEqual({ ok: true });
    expect(await runHandler(http("/redirect"), ctx, 1000)).toEqual({ ok: true });
    const failed = await runHandler(http("/missing"), ctx, 1000);
    expect(failed).toEqual({ ok: false, message: "HTTP probe failed with statuscode: 500 broken" });
    expect(
      await runHandler(http("/header", { httpHeaders: [{ name: "X-Probe", value: "yes" }] }), ctx, 1000),
    ).toEqual({ ok: true });
  });

  test("httpGet: a timeout and a refused connection fail and say so", async () => {
    const slow = await runHandler(http("/slow"), ctx, 200);
    expect(slow.ok).toBe(false);
    expect(slow.ok || slow.message).toContain("deadline exceeded");
    const refused = await runHandler({ httpGet: { path: "/", port: 1 } }, ctx, 1000);
    expect(refused.ok || refused.message).toContain("connection refused");
    const unknownPort = await runHandler({ httpGet: { path: "/", port: "nope" } }, ctx, 1000);
    expect(unknownPort).toEqual({ ok: false, message: "port nope not found in the container" });
  });

  test("tcpSocket: a connection is success, a refusal is failure", async () => {
    expect(await runHandler({ tcpSocket: { port: server.port as number } }, ctx, 1000)).toEqual({ ok: true });
    expect((await runHandler({ tcpSocket: { port: 1 } }, ctx, 1000)).ok).toBe(false);
  });

  test("exec: exit code 0 is success; gRPC probes are reported as not emulated", async () => {
    expect(await runHandler({ exec: { command: ["true"] } }, ctx, 1000)).toEqual({ ok: true });
    expect(await runHandler({ exec: { command: ["false"] } }, ctx, 1000)).toEqual({
      ok: false,
      message: "exit code 1: nope",
    });
    const grpc = await runHandler({ grpc: { port: 9000 } }, ctx, 1000);
    expect(grpc.ok || grpc.message).toContain("not supported");
  });
});

describe("probe thresholds", () => {
  const timing = { successThreshold: 2, failureThreshold: 3 };
  test("the result flips only after successThreshold successes or failureThreshold failures in a row", () => {
    let s = { ok: false, successes: 0, failures: 0 };
    const ok = { ok: true } as const;
    const bad = { ok: false, message: "x" } as const;
    s = nextProbeState(s, ok, timing);
    expect(s.ok).toBe(false);
    s = nextProbeState(s, ok, timing);
    expect(s.ok).toBe(true);
    s = nextProbeState(nextProbeState(s, bad, timing), bad, timing);
    expect(s.ok).toBe(true);
    s = nextProbeState(s, ok, timing);
    s = nextProbeState(nextProbeState(nextProbeState(s, bad, timing), bad, timing), bad, timing);
    expect(s.ok).toBe(false);
  });
});
