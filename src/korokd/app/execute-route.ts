/** `POST /api/execute`: one run, answered as JSON or, with `Accept: text/event-stream`, as SSE. */
import type { Context } from "hono";
import type { Logger } from "../../log/logger";
import type { ExecuteRequest, Executor } from "../exec/executor";
import { isLanguage, LANGUAGES } from "../exec/languages";
import { KorokdError } from "../korokd-error";
import { ExecuteBody, parseBody } from "./request-schemas";
import { sseResponse } from "./sse-response";

export interface ExecuteRouteOptions {
  readonly executor: Executor;
  readonly defaultTimeoutMs: number;
  readonly maxTimeoutMs: number;
  readonly heartbeatMs: number;
  /** Aborted when korokd shuts down: every run is killed. */
  readonly shutdown: AbortSignal;
  readonly log: Logger;
}

export function executeHandler(options: ExecuteRouteOptions) {
  return async function execute(c: Context): Promise<Response> {
    const request = toRequest(await parseBody(c.req.raw, ExecuteBody), options);
    const start = options.executor.begin(request);
    if (wantsEventStream(c.req.header("accept"))) {
      return sseResponse(
        async (send, signal) => {
          const result = await start({
            signal: AbortSignal.any([signal, options.shutdown]),
            onOutput: (stream, text) => send(stream, { text }),
          });
          send("exit", result);
        },
        {
          heartbeatMs: options.heartbeatMs,
          onError: (err) => options.log.error("stream failed", { error: String(err) }),
        },
      );
    }
    const result = await start({ signal: AbortSignal.any([c.req.raw.signal, options.shutdown]) });
    return c.json(result);
  };
}

function toRequest(body: ExecuteBody, options: ExecuteRouteOptions): ExecuteRequest {
  if (!isLanguage(body.language)) {
    throw new KorokdError(
      "unsupported_language",
      `language "${body.language}" is not supported; supported: ${LANGUAGES.join(", ")}`,
    );
  }
  const timeoutMs = body.timeout_ms ?? options.defaultTimeoutMs;
  if (timeoutMs > options.maxTimeoutMs) {
    throw new KorokdError("invalid_request", `timeout_ms: must be at most ${options.maxTimeoutMs}`);
  }
  return {
    language: body.language,
    code: body.code,
    timeoutMs,
    // An empty env changes nothing, so such a run may still use a pre-started interpreter.
    ...(body.env && Object.keys(body.env).length > 0 ? { env: body.env } : {}),
    ...(body.context_id ? { contextId: body.context_id } : {}),
  };
}

function wantsEventStream(accept: string | undefined): boolean {
  return accept?.toLowerCase().includes("text/event-stream") === true;
}
