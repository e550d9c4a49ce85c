import { describe, expect, test } from "bun:test";
import { downstreamHeaders as downstreamLines, upstreamHeaders as upstreamLines } from "./proxy-headers";

const upstreamHeaders = (...args: Parameters<typeof upstreamLines>) => new Headers(upstreamLines(...args));
const downstreamHeaders = (...args: Parameters<typeof downstreamLines>) =>
  new Headers(downstreamLines(...args));

const ctx = {
  token: "tok",
  sessionId: "sess",
  requestId: "req-1",
  clientIp: "10.0.0.9",
  proto: "http" as const,
  host: "gw.example",
};

describe("proxy headers", () => {
  test("client credentials, cookies and hop-by-hop headers never reach the sandbox", () => {
    const out = upstreamHeaders(
      new Headers({
        authorization: "Bearer client-api-key",
        "x-api-key": "client-api-key",
        cookie: "a=b",
        connection: "keep-alive, x-secret-hop",
        "x-secret-hop": "1",
        "keep-alive": "timeout=5",
        te: "trailers",
        trailer: "x",
        "transfer-encoding": "chunked",
        upgrade: "h2c",
        "proxy-authorization": "Basic x",
        "x-agentland-session": "someone-elses",
        "x-agentland-runtime": "r",
        "x-custom": "kept",
        "content-type": "application/json",
      }),
      ctx,
    );
    expect(out.get("authorization")).toBe("Bearer tok");
    expect(out.get("x-agentland-session")).toBe("sess");
    for (const gone of [
      "x-api-key",
      "cookie",
      "connection",
      "x-secret-hop",
      "keep-alive",
      "te",
      "trailer",
      "transfer-encoding",
      "upgrade",
      "proxy-authorization",
      "x-agentland-runtime",
    ]) {
      expect(out.has(gone)).toBe(false);
    }
    expect(out.get("x-custom")).toBe("kept");
    expect(out.get("content-type")).toBe("application/json");
  });

  test("X-Forwarded-For is appended to, proto/host and request id are set by the gateway", () => {
    const out = upstreamHeaders(
      new Headers({ "x-forwarded-for": "1.2.3.4", "x-forwarded-proto": "https", "x-request-id": "forged" }),
      ctx,
    );
    expect(out.get("x-forwarded-for")).toBe("1.2.3.4, 10.0.0.9");
    expect(out.get("x-forwarded-proto")).toBe("http");
    expect(out.get("x-forwarded-host")).toBe("gw.example");
    expect(out.get("x-request-id")).toBe("req-1");
  });

  test("the gateway never asks a sandbox for an encoding the client did not accept", () => {
    expect(upstreamHeaders(new Headers(), ctx).get("accept-encoding")).toBe("identity");
    expect(upstreamHeaders(new Headers({ "accept-encoding": "gzip" }), ctx).get("accept-encoding")).toBe(
      "gzip",
    );
  });

  test("a sandbox cannot set cookies or hop-by-hop headers on the client's connection", () => {
    const out = downstreamHeaders(
      [
        ["set-cookie", "session=stolen"],
        ["connection", "x-hop"],
        ["x-hop", "1"],
        ["transfer-encoding", "chunked"],
        ["content-type", "text/plain"],
        ["x-agentland-session", "spoofed"],
      ],
      "sess",
      "req-1",
    );
    expect(out.has("set-cookie")).toBe(false);
    expect(out.has("x-hop")).toBe(false);
    expect(out.has("transfer-encoding")).toBe(false);
    expect(out.get("content-type")).toBe("text/plain");
    expect(out.get("x-agentland-session")).toBe("sess");
    expect(out.get("x-request-id")).toBe("req-1");
  });
});
