/**
 * A fault-injecting HTTP proxy in front of a real kube-apiserver, for testing clients under failure.
 * Clients speak plain HTTP to it; it forwards every request to the apiserver over TLS with the client
 * certificate it was given (an `Authorization` header from the client is passed through, so tokens
 * still decide who the caller is). On demand it:
 * - drops open watch streams mid-stream (abruptly, or with a clean end),
 * - injects an in-stream ERROR event (e.g. 410 Expired) into open watches,
 * - stalls open watches (holds the connection, forwards nothing: a half-open connection),
 * - answers the next N matching requests itself with 429/500/410/… (optionally with Retry-After),
 * - delays every request.
 * It records every request so tests can assert what the client did (e.g. no watch after stop()).
 */

export interface UpstreamTls {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

export interface ProxiedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly watch: boolean;
  /** Status answered (by the proxy or the apiserver); 0 if the upstream call failed. */
  status: number;
  readonly at: number;
}

export interface Failure {
  readonly status: number;
  /** How many matching requests to fail (default 1). */
  readonly count?: number;
  readonly retryAfterSeconds?: number;
  /** Which requests to fail (default: all). */
  readonly match?: (req: { method: string; path: string; watch: boolean }) => boolean;
  readonly reason?: string;
}

export interface FaultProxy {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly requests: readonly ProxiedRequest[];
  /** Watch streams currently open. */
  openWatches(): number;
  /** Breaks every open watch stream (the client sees a network error); returns how many. */
  dropWatches(): number;
  /** Ends every open watch stream cleanly, as the apiserver does at timeoutSeconds. */
  endWatches(): number;
  /** Sends an in-stream ERROR event with this HTTP code to every open watch, then ends it. */
  injectWatchError(code: number, reason: string): number;
  /** Open watches stop forwarding anything but stay connected. */
  stallWatches(): number;
  /** Answers the next matching request(s) with this status instead of forwarding. */
  fail(failure: Failure): void;
  /** Forgets failures not yet used up. */
  clearFaults(): void;
  /** Delays every forwarded request by `ms` (0 = off). */
  delay(ms: number): void;
  stop(): Promise<void>;
}

interface OpenWatch {
  readonly controller: ReadableStreamDefaultController<Uint8Array>;
  readonly upstream: AbortController;
  stalled: boolean;
}

const encoder = new TextEncoder();

const statusBody = (code: number, reason: string, message: string) =>
  JSON.stringify({
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    code,
  });

export interface FaultProxyOptions {
  /** The apiserver, e.g. `https://127.0.0.1:6443`. */
  readonly upstream: string;
  readonly tls: UpstreamTls;
  readonly hostname?: string;
  /** Default: any free port. */
  readonly port?: number;
}

export function startFaultProxy(opts: FaultProxyOptions): FaultProxy {
  const requests: ProxiedRequest[] = [];
  const watches = new Set<OpenWatch>();
  const failures: { failure: Failure; left: number }[] = [];
  let delayMs = 0;

  const takeFailure = (req: { method: string; path: string; watch: boolean }): Failure | undefined => {
    const hit = failures.find((f) => f.left > 0 && (f.failure.match?.(req) ?? true));
    if (!hit) return undefined;
    hit.left--;
    return hit.failure;
  };

  async function handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const watch = url.searchParams.get("watch") === "true" || url.searchParams.get("watch") === "1";
    const record: ProxiedRequest = {
      method: req.method,
      path: url.pathname,
      query: url.searchParams,
      watch,
      status: 0,
      at: Date.now(),
    };
    requests.push(record);
    if (delayMs > 0) await Bun.sleep(delayMs);
    const failure = takeFailure({ method: req.method, path: url.pathname, watch });
    if (failure) {
      record.status = failure.status;
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (failure.retryAfterSeconds !== undefined) headers["retry-after"] = String(failure.retryAfterSeconds);
      const reason = failure.reason ?? (failure.status === 410 ? "Expired" : "InjectedFault");
      return new Response(statusBody(failure.status, reason, `fault-proxy: injected ${failure.status}`), {
        status: failure.status,
        headers,
      });
    }
    const headers = new Headers(req.headers);
    headers.delete("host");
    headers.delete("connection");
    const upstreamAbort = new AbortController();
    let res: Response;
    try {
      res = await fetch(`${opts.upstream}${url.pathname}${url.search}`, {
        method: req.method,
        headers,
        ...(req.method === "GET" || req.method === "HEAD" ? {} : { body: await req.arrayBuffer() }),
        signal: upstreamAbort.signal,
        tls: { ca: opts.tls.ca, cert: opts.tls.cert, key: opts.tls.key },
        timeout: false,
        decompress: false,
      } as RequestInit);
    } catch (err) {
      record.status = 502;
      return new Response(statusBody(502, "BadGateway", `fault-proxy: upstream failed: ${err}`), {
        status: 502,
      });
    }
    record.status = res.status;
    const outHeaders = new Headers(res.headers);
    outHeaders.delete("content-length");
    outHeaders.delete("transfer-encoding");
    if (!watch || !res.ok || !res.body) {
      return new Response(await res.arrayBuffer(), { status: res.status, headers: outHeaders });
    }
    return new Response(relayWatch(res.body, upstreamAbort), { status: res.status, headers: outHeaders });
  }

  function relayWatch(
    body: ReadableStream<Uint8Array>,
    upstream: AbortController,
  ): ReadableStream<Uint8Array> {
    const reader = body.getReader();
    let entry: OpenWatch | undefined;
    return new ReadableStream<Uint8Array>({
      start(controller) {
        entry = { controller, upstream, stalled: false };
        watches.add(entry);
        // Bun.serve sends the headers with the first body byte; a blank line is valid watch framing.
        controller.enqueue(encoder.encode("\n"));
      },
      async pull(controller) {
        const chunk = await reader.read().catch(() => ({ done: true as const, value: undefined }));
        if (!entry || !watches.has(entry)) return;
        if (chunk.done) {
          watches.delete(entry);
          controller.close();
        } else if (!entry.stalled) controller.enqueue(chunk.value);
      },
      cancel() {
        if (entry) watches.delete(entry);
        upstream.abort();
      },
    });
  }

  const forEachWatch = (fn: (w: OpenWatch) => void): number => {
    const all = [...watches];
    watches.clear();
    for (const w of all) {
      try {
        fn(w);
      } catch {
        // the client already went away
      }
      w.upstream.abort();
    }
    return all.length;
  };

  const server = Bun.serve({
    hostname: opts.hostname ?? "127.0.0.1",
    port: opts.port ?? 0,
    idleTimeout: 0,
    fetch: handle,
  });

  return {
    url: `http://${server.hostname}:${server.port}`,
    requests,
    openWatches: () => watches.size,
    // Erroring the body resets the connection (the client sees ECONNRESET); `undefined` keeps Bun from logging it.
    dropWatches: () => forEachWatch((w) => w.controller.error(undefined)),
    endWatches: () => forEachWatch((w) => w.controller.close()),
    injectWatchError(code, reason) {
      const event = `${JSON.stringify({ type: "ERROR", object: JSON.parse(statusBody(code, reason, "fault-proxy: injected")) })}\n`;
      return forEachWatch((w) => {
        w.controller.enqueue(encoder.encode(event));
        w.controller.close();
      });
    },
    stallWatches() {
      for (const w of watches) w.stalled = true;
      return watches.size;
    },
    fail(failure) {
      failures.push({ failure, left: failure.count ?? 1 });
    },
    clearFaults() {
      failures.length = 0;
    },
    delay(ms) {
      delayMs = ms;
    },
    async stop() {
      forEachWatch((w) => w.controller.close());
      await server.stop(true);
    },
  };
}
