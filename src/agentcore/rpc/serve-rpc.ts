/**
 * Serves the AgentCore service two ways:
 * - `Bun.serve` + Hono on `http-port`: Connect and gRPC-Web over HTTP/1.1 (browsers, CORS from settings) and
 *   over HTTP/2 cleartext with prior knowledge — the gateway's path — plus `/healthz` and `/metrics`;
 * - `node:http2` + connect-node on `listen-port`: gRPC (which needs trailers), gRPC-Web and Connect over
 *   HTTP/2 cleartext, for gRPC clients.
 * The gateway calls the first: Bun serves its HTTP/2 natively, where `node:http2` runs in JavaScript. A warm
 * create (200 ms after the last call, as between the agentcore bench's creates) answered 1.8-6.4 ms sooner
 * there in three bench runs.
 * Every call is counted and timed; errors are mapped to Connect codes in one place (`to-connect-error.ts`).
 */
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import {
  Code,
  ConnectError,
  createConnectRouter,
  type Interceptor,
  type ServiceImpl,
} from "@connectrpc/connect";
import { createFetchHandler } from "@connectrpc/connect/protocol";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { Hono } from "hono";
import { cors } from "hono/cors";
import { AgentCoreService } from "../../gen/agentland/agentcore/v1/agentcore_pb";
import type { MetricsRegistry } from "../../metrics/metrics-registry";
import { toConnectError } from "./to-connect-error";

type Service = ServiceImpl<typeof AgentCoreService>;

export interface RpcServerOptions {
  readonly hostname: string;
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly corsOrigins: readonly string[];
  readonly metrics: MetricsRegistry;
  /** False while the informer caches have not synced: `/healthz` answers 503. */
  readonly ready: () => boolean;
}

export interface RpcServer {
  readonly grpcUrl: string;
  readonly httpUrl: string;
  stop(deadlineMs: number): Promise<void>;
}

/** Wraps every method so that whatever it throws reaches the client as a mapped ConnectError. */
function mapErrors(impl: Service): Service {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(impl)) {
    out[name] = async (req: unknown, ctx: unknown) => {
      try {
        return await (fn as (r: unknown, c: unknown) => Promise<unknown>)(req, ctx);
      } catch (err) {
        throw toConnectError(err);
      }
    };
  }
  return out as Service;
}

function metricsInterceptor(metrics: MetricsRegistry): Interceptor {
  const calls = metrics.counter(
    "agentland_agentcore_rpc_requests_total",
    "AgentCore RPCs by method and code.",
  );
  const seconds = metrics.histogram("agentland_agentcore_rpc_duration_seconds", "AgentCore RPC latency.");
  return (next) => async (req) => {
    const started = performance.now();
    const method = req.method.name;
    let code = "ok";
    try {
      return await next(req);
    } catch (err) {
      code = Code[ConnectError.from(err).code] ?? "unknown";
      throw err;
    } finally {
      calls.inc({ method, code });
      seconds.observe((performance.now() - started) / 1000, { method });
    }
  };
}

type Http2Handler = (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void;

/**
 * Bun's HTTP/2 turns an empty `write` into a zero-length DATA frame without END_STREAM, and peers count such
 * frames as invalid (nghttp2's empty-frame flood guard, which Bun's client copies): after ~1,000 of them the
 * client tears the whole connection down and every call on it fails. A Connect unary answer whose message
 * encodes to zero bytes (DeleteSession; RecordActivity with no unknown session) is such a write, so the
 * gateway's connection broke every ~1,000 of those. Empty writes are dropped; `end()` still ends the stream.
 */
function withoutEmptyWrites(handler: Http2Handler): Http2Handler {
  return (req, res) => {
    const write = res.write.bind(res) as (...args: unknown[]) => boolean;
    res.write = ((chunk: { length: number }, ...rest: unknown[]) => {
      if (chunk.length > 0) return write(chunk, ...rest);
      const done = rest.find((a) => typeof a === "function") as (() => void) | undefined;
      if (done) queueMicrotask(done);
      return true;
    }) as typeof res.write;
    handler(req, res);
  };
}

export async function serveRpc(impl: Service, opts: RpcServerOptions): Promise<RpcServer> {
  const service = mapErrors(impl);
  const interceptors = [metricsInterceptor(opts.metrics)];
  const routes = (router: ReturnType<typeof createConnectRouter>) =>
    router.service(AgentCoreService, service);

  const h2 = http2.createServer(withoutEmptyWrites(connectNodeAdapter({ routes, interceptors })));
  // close() waits for every session to end; a gateway keeps its connection open, so drain then force.
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on("session", (s) => {
    sessions.add(s);
    s.once("close", () => sessions.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    h2.once("error", reject);
    h2.listen(opts.grpcPort, opts.hostname, () => resolve());
  });

  const router = createConnectRouter({ interceptors });
  routes(router);
  const app = new Hono();
  app.use(
    "*",
    cors({
      origin: [...opts.corsOrigins],
      allowHeaders: CORS_ALLOW,
      exposeHeaders: CORS_EXPOSE,
      maxAge: 7200,
    }),
  );
  app.get("/healthz", (c) => (opts.ready() ? c.text("ok") : c.text("caches not synced", 503)));
  app.get("/metrics", (c) =>
    c.text(opts.metrics.render(), 200, { "content-type": "text/plain; version=0.0.4" }),
  );
  for (const handler of router.handlers) {
    // The version only decides whether bidi streams are refused; the service has none, and a fetch Request
    // does not say which protocol carried it.
    const fetchHandler = createFetchHandler(handler, { httpVersion: "1.1" });
    app.post(handler.requestPath, (c) => fetchHandler(c.req.raw));
  }
  const http1 = Bun.serve({
    hostname: opts.hostname,
    port: opts.httpPort,
    fetch: app.fetch,
    idleTimeout: 120,
    // HTTP/2 for clients that open with its preface (the gateway's); HTTP/1.1 for everyone else.
    http2: true,
  });

  const host = opts.hostname.includes(":") ? `[${opts.hostname}]` : opts.hostname;
  return {
    grpcUrl: `http://${host}:${(h2.address() as AddressInfo).port}`,
    httpUrl: `http://${host}:${http1.port}`,
    async stop(deadlineMs) {
      const timer = setTimeout(() => {
        void http1.stop(true);
        for (const s of sessions) s.destroy();
      }, deadlineMs);
      const closed = new Promise<void>((resolve) => h2.close(() => resolve()));
      for (const s of sessions) s.close();
      await Promise.all([closed, http1.stop(false)]);
      clearTimeout(timer);
    },
  };
}

/** Request headers a browser Connect/gRPC-Web client sends (connect-es CORS guidance). */
const CORS_ALLOW = [
  "content-type",
  "connect-protocol-version",
  "connect-timeout-ms",
  "grpc-timeout",
  "x-grpc-web",
  "x-user-agent",
  "authorization",
];
const CORS_EXPOSE = ["grpc-status", "grpc-message", "grpc-status-details-bin"];
