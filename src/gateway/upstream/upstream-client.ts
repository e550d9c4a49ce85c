/**
 * HTTP/1.1 to sandboxes over Bun's TCP sockets with keep-alive pooling. The gateway talks to every sandbox
 * this way instead of through `fetch` (issue #9, measured A/B in one run): `fetch` moves work from the main
 * thread to Bun's HTTP thread but not less of it, and once it carries what the proxy needs (a deadline
 * timer and AbortController per request, a late client-abort watch, a body wrapped to see its end for
 * activity) it cost 1.03-1.29× the CPU per request of this client, added 0.12-0.27 ms to a run's p50, and
 * let a 50 MiB upload grow the gateway by ~31 MiB. See `http1-exchange.ts` for one exchange.
 *
 * A request that dies on a reused keep-alive connection before any response byte (the sandbox closed an
 * idle connection just as it was picked) is retried on another connection when its body can be replayed.
 */
import { exchange, type UpstreamResponse } from "./http1-exchange";
import { NoResponseError } from "./request-writer";
import { createSocketPool, type PooledConnection } from "./socket-pool";

export interface UpstreamRequest {
  readonly host: string;
  readonly port: number;
  readonly method: string;
  /** Origin-form request target: `/path?query`. */
  readonly target: string;
  readonly headers: Iterable<[string, string]>;
  readonly body: Uint8Array | string | ReadableStream<Uint8Array> | null;
  /** Declared length of a streamed body; undefined sends it chunked. */
  readonly bodyLength?: number | undefined;
  /** Time for the response head after the request went out; undefined waits as long as the client. */
  readonly headersTimeoutMs?: number | undefined;
  /** The client's signal; as a function it is asked for only if the exchange lasts (`late-abort-watch.ts`). */
  readonly signal: AbortSignal | (() => AbortSignal);
  /** Runs once when the exchange is over: body delivered, failed, or abandoned. */
  readonly onFinish: () => void;
}

export interface UpstreamClient {
  request(req: UpstreamRequest): Promise<UpstreamResponse>;
  close(): void;
}

export class InvalidTargetError extends Error {
  override readonly name = "InvalidTargetError";
}

/** Origin-form targets only: printable ASCII without spaces, starting with `/` (RFC 9112 §3.2.1). */
const ORIGIN_FORM = /^\/[\x21-\x7e]*$/;
const MAX_ATTEMPTS = 3;
const CONNECT_TIMEOUT_MS = 10_000;
const encoder = new TextEncoder();

export function createUpstreamClient(
  opts: { maxIdlePerOrigin?: number; idleTimeoutMs?: number } = {},
): UpstreamClient {
  const pool = createSocketPool({
    maxIdlePerOrigin: opts.maxIdlePerOrigin ?? 128,
    idleTimeoutMs: opts.idleTimeoutMs ?? 30_000,
    now: () => performance.now(),
  });

  async function request(req: UpstreamRequest): Promise<UpstreamResponse> {
    if (!ORIGIN_FORM.test(req.target))
      throw new InvalidTargetError(`invalid request target ${JSON.stringify(req.target)}`);
    const body = typeof req.body === "string" ? encoder.encode(req.body) : req.body;
    const replayable = !(body instanceof ReadableStream);
    const authority = req.host.includes(":") ? `[${req.host}]:${req.port}` : `${req.host}:${req.port}`;
    const connectTimeout = Math.min(req.headersTimeoutMs ?? CONNECT_TIMEOUT_MS, CONNECT_TIMEOUT_MS);
    for (let attempt = 1; ; attempt++) {
      let conn: PooledConnection;
      try {
        const acquired = pool.acquire(req.host, req.port, connectTimeout, req.signal);
        conn = acquired instanceof Promise ? await acquired : acquired;
      } catch (err) {
        req.onFinish();
        throw err;
      }
      let accepted = false;
      let finished = false;
      try {
        const res = await exchange(conn.socket, pool, {
          method: req.method,
          target: req.target,
          authority,
          headers: req.headers,
          body,
          bodyLength: req.bodyLength,
          headersTimeoutMs: req.headersTimeoutMs,
          signal: req.signal,
          onFinish: () => {
            finished = true;
            if (accepted) req.onFinish();
          },
        });
        accepted = true;
        if (finished) req.onFinish();
        return res;
      } catch (err) {
        const retry = err instanceof NoResponseError && conn.reused && replayable && attempt < MAX_ATTEMPTS;
        if (!retry) {
          req.onFinish();
          throw err;
        }
      }
    }
  }

  return { request, close: () => pool.close() };
}
