/**
 * One probe or lifecycle-handler attempt, as the kubelet runs it: `httpGet` (2xx/3xx is success; the
 * host defaults to the pod IP; a named port is looked up in the container's ports; redirects are not
 * followed), `tcpSocket` (a connection is success), `exec` (exit code 0 is success; runs inside the
 * container) and `sleep` (hooks only). gRPC probes are not emulated and always fail, saying so.
 */
import type { Container, Probe } from "./pod-types";

export type ProbeResult = { readonly ok: true } | { readonly ok: false; readonly message: string };

export interface ProbeContext {
  readonly podIP: string;
  readonly container: Container;
  /** Runs a command in the container; exit code and output. */
  exec(
    command: readonly string[],
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<{ exitCode: number; output: string; timedOut: boolean }>;
}

export type Handler = { [K in "httpGet" | "tcpSocket" | "exec" | "grpc"]?: Probe[K] | undefined } & {
  sleep?: { seconds: number } | undefined;
};

export function resolvePort(container: Container, port: number | string | undefined): number | undefined {
  if (typeof port === "number") return port;
  if (port === undefined) return undefined;
  if (/^\d+$/.test(port)) return Number(port);
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

export async function runHandler(
  handler: Handler,
  ctx: ProbeContext,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<ProbeResult> {
  if (handler.exec) {
    const r = await ctx.exec(handler.exec.command ?? [], timeoutMs, signal);
    if (r.timedOut) return { ok: false, message: `command timed out after ${timeoutMs} ms` };
    return r.exitCode === 0
      ? { ok: true }
      : { ok: false, message: `exit code ${r.exitCode}: ${r.output.trim().slice(0, 500)}` };
  }
  if (handler.httpGet) return httpGet(handler.httpGet, ctx, timeoutMs, signal);
  if (handler.tcpSocket) {
    const port = resolvePort(ctx.container, handler.tcpSocket.port);
    if (port === undefined)
      return { ok: false, message: `port ${handler.tcpSocket.port} not found in the container` };
    return tcpConnect(handler.tcpSocket.host || ctx.podIP, port, timeoutMs);
  }
  if (handler.sleep) {
    await Bun.sleep(handler.sleep.seconds * 1000);
    return { ok: true };
  }
  if (handler.grpc)
    return { ok: false, message: "gRPC probes are not supported by the host-process node agent" };
  return { ok: false, message: "probe has no handler" };
}

type HttpGet = NonNullable<Probe["httpGet"]>;

async function httpGet(
  spec: HttpGet,
  ctx: ProbeContext,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<ProbeResult> {
  const port = resolvePort(ctx.container, spec.port);
  if (port === undefined) return { ok: false, message: `port ${spec.port} not found in the container` };
  const scheme = (spec.scheme ?? "HTTP").toLowerCase();
  const host = spec.host || ctx.podIP;
  const path = spec.path?.startsWith("/") ? spec.path : `/${spec.path ?? ""}`;
  const url = `${scheme}://${host.includes(":") ? `[${host}]` : host}:${port}${path}`;
  const headers: Record<string, string> = { "user-agent": "kube-probe/1.34", accept: "*/*" };
  for (const h of spec.httpHeaders ?? []) headers[h.name.toLowerCase()] = h.value;
  const deadline = AbortSignal.timeout(timeoutMs);
  try {
    const res = await fetch(url, {
      headers,
      redirect: "manual",
      signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
      ...(scheme === "https" ? { tls: { rejectUnauthorized: false } } : {}),
    } as RequestInit);
    const body = await res.text();
    if (res.status >= 200 && res.status < 400) return { ok: true };
    return {
      ok: false,
      message: `HTTP probe failed with statuscode: ${res.status} ${body.slice(0, 200)}`.trim(),
    };
  } catch (err) {
    const reason = deadline.aborted
      ? "context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
      : ["ConnectionRefused", "ECONNREFUSED"].includes((err as { code?: string }).code ?? "")
        ? `dial tcp ${host}:${port}: connect: connection refused`
        : (err as Error).message;
    return { ok: false, message: `Get "${url}": ${reason}` };
  }
}

async function tcpConnect(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  let socket: Bun.Socket | undefined;
  const timeout = Bun.sleep(timeoutMs).then(
    (): ProbeResult => ({ ok: false, message: `dial tcp ${host}:${port}: i/o timeout` }),
  );
  const connect = Bun.connect({ hostname: host, port, socket: { data() {}, error() {} } }).then(
    (s): ProbeResult => {
      socket = s;
      return { ok: true };
    },
    (err: unknown): ProbeResult => ({
      ok: false,
      message: `dial tcp ${host}:${port}: ${(err as Error).message}`,
    }),
  );
  try {
    return await Promise.race([connect, timeout]);
  } finally {
    socket?.end();
    // A connect that wins after the timeout must not leak its socket.
    void connect.then(() => socket?.end());
  }
}
