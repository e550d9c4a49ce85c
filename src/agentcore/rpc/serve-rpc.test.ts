/**
 * The RPC server's two ports over HTTP/2 with the gateway's own client over real sockets, no cluster: a
 * service that answers every call with an empty message, as DeleteSession and RecordActivity do.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { createAgentcoreClient } from "../../gateway/agentcore/agentcore-client";
import {
  CreateAgentSessionResponseSchema,
  CreateCodeInterpreterResponseSchema,
  DeleteSessionResponseSchema,
  GetSessionResponseSchema,
  ListSessionsResponseSchema,
  RecordActivityResponseSchema,
} from "../../gen/agentland/agentcore/v1/agentcore_pb";
import { createMetricsRegistry } from "../../metrics/metrics-registry";
import { type RpcServer, serveRpc } from "./serve-rpc";

/** Above the ~1,000 invalid frames after which an HTTP/2 peer drops the connection. */
const CALLS = 1_500;

let server: RpcServer;

beforeAll(async () => {
  server = await serveRpc(
    {
      createCodeInterpreter: () => create(CreateCodeInterpreterResponseSchema),
      createAgentSession: () => create(CreateAgentSessionResponseSchema),
      getSession: () => create(GetSessionResponseSchema),
      deleteSession: () => create(DeleteSessionResponseSchema),
      listSessions: () => create(ListSessionsResponseSchema),
      recordActivity: () => create(RecordActivityResponseSchema),
    },
    {
      hostname: "127.0.0.1",
      grpcPort: 0,
      httpPort: 0,
      corsOrigins: [],
      metrics: createMetricsRegistry(),
      ready: () => true,
    },
  );
});

afterAll(async () => {
  await server.stop(1_000);
});

/** Each port's URL: the HTTP port is the gateway's (Bun.serve), the gRPC port runs on `node:http2`. */
const PORTS = { "HTTP port": () => server.httpUrl, "gRPC port": () => server.grpcUrl };

describe.each(Object.entries(PORTS))("the RPC server's %s over HTTP/2", (_, url) => {
  test(`${CALLS} answers with an empty message on one connection all arrive`, async () => {
    const client = createAgentcoreClient({ baseUrl: url(), createTimeoutMs: 5_000, callTimeoutMs: 5_000 });
    const signal = AbortSignal.timeout(50_000);
    // Sequential, so that a dropped connection fails a call instead of being hidden by a reconnect race.
    for (let i = 0; i < CALLS; i++) {
      if (i % 2 === 0) {
        const activity = { id: `s-${i}`, namespace: "ns", lastActivityAtMs: Date.now(), inFlight: 0 };
        expect(await client.recordActivity("gw-1", [activity], signal)).toEqual([]);
      } else {
        expect(await client.deleteSession("alice", `s-${i}`, "ns", signal)).toBe(true);
      }
    }
    client.close();
  }, 60_000);
});
