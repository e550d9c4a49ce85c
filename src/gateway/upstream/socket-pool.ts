/**
 * Keep-alive TCP connections to sandboxes, pooled per origin. A request takes an idle connection (most
 * recently used first, so idle ones age out) or opens a new one; a connection goes back only when its
 * response ended cleanly and both sides agreed to keep it (RFC 9112 §9.3). Idle connections are closed
 * after `idleTimeoutMs`, and at once when the sandbox closes them.
 *
 * Each connection's events are delivered to whichever exchange currently owns it (`socket.data`).
 */
import type { Socket, SocketHandler } from "bun";

export interface ConnectionEvents {
  data(chunk: Uint8Array): void;
  drain(): void;
  /** The peer finished sending (FIN) or the connection closed or failed. */
  closed(error?: Error): void;
}

export interface PooledConnection {
  readonly socket: Socket<ConnectionState>;
  /** True when this connection already carried a request (a stale keep-alive may have closed it). */
  readonly reused: boolean;
}

export interface ConnectionState {
  owner: ConnectionEvents | undefined;
  closed: boolean;
  idleSince: number;
  origin: string;
  uses: number;
}

export interface SocketPool {
  /**
   * An open connection to `host:port`: an idle one at once (no promise: the common case on the hot path),
   * else a promise of a new one that rejects when connecting fails or exceeds `timeoutMs`.
   */
  acquire(
    host: string,
    port: number,
    timeoutMs: number,
    signal: AbortSignal | (() => AbortSignal),
  ): PooledConnection | Promise<PooledConnection>;
  /** Returns a connection for reuse (or closes it when the pool for its origin is full). */
  release(socket: Socket<ConnectionState>): void;
  /** Closes everything (shutdown). */
  close(): void;
}

export interface SocketPoolOptions {
  readonly maxIdlePerOrigin: number;
  readonly idleTimeoutMs: number;
  readonly now: () => number;
}

const handlers: SocketHandler<ConnectionState> = {
  data(socket, chunk) {
    if (socket.data.owner) socket.data.owner.data(chunk);
    // Bytes on an idle connection break HTTP/1.1 framing: never reuse it.
    else socket.end();
  },
  drain(socket) {
    socket.data.owner?.drain();
  },
  end(socket) {
    socket.data.owner?.closed();
    socket.end();
  },
  close(socket, error) {
    socket.data.closed = true;
    socket.data.owner?.closed(error);
    socket.data.owner = undefined;
  },
  error(socket, error) {
    socket.data.owner?.closed(error);
  },
};

export function createSocketPool(opts: SocketPoolOptions): SocketPool {
  const idle = new Map<string, Socket<ConnectionState>[]>();
  const sweeper = setInterval(() => sweep(), Math.max(1000, opts.idleTimeoutMs / 2));
  sweeper.unref();

  function sweep(): void {
    const oldest = opts.now() - opts.idleTimeoutMs;
    for (const [origin, list] of idle) {
      const keep = list.filter((s) => !s.data.closed && s.data.idleSince > oldest);
      for (const s of list) if (!keep.includes(s)) s.end();
      if (keep.length === 0) idle.delete(origin);
      else idle.set(origin, keep);
    }
  }

  async function connect(host: string, port: number, timeoutMs: number, signal: AbortSignal) {
    const state: ConnectionState = {
      owner: undefined,
      closed: false,
      idleSince: 0,
      origin: `${host}:${port}`,
      uses: 0,
    };
    let timer: ReturnType<typeof setTimeout> | undefined;
    const gaveUp = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ConnectTimeoutError()), timeoutMs);
      signal.addEventListener("abort", () => reject(signal.reason), { once: true });
    });
    const connecting = Bun.connect<ConnectionState>({ hostname: host, port, socket: handlers, data: state });
    try {
      const socket = await Promise.race([connecting, gaveUp]);
      socket.setNoDelay(true);
      return socket;
    } catch (err) {
      // A connection that completes after we gave up must not leak.
      connecting.then(
        (s) => s.end(),
        () => undefined,
      );
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    acquire(host, port, timeoutMs, signal) {
      const list = idle.get(`${host}:${port}`);
      while (list !== undefined && list.length > 0) {
        const socket = list.pop() as Socket<ConnectionState>;
        if (!socket.data.closed && socket.readyState === 1) {
          socket.data.uses++;
          return { socket, reused: true };
        }
      }
      // Connecting may take long: the client's signal is needed now.
      return connect(host, port, timeoutMs, typeof signal === "function" ? signal() : signal).then(
        (socket) => {
          socket.data.uses = 1;
          return { socket, reused: false };
        },
      );
    },
    release(socket) {
      socket.data.owner = undefined;
      if (socket.data.closed) return;
      const list = idle.get(socket.data.origin) ?? [];
      if (list.length >= opts.maxIdlePerOrigin) {
        socket.end();
        return;
      }
      socket.data.idleSince = opts.now();
      list.push(socket);
      idle.set(socket.data.origin, list);
    },
    close() {
      clearInterval(sweeper);
      for (const list of idle.values()) for (const s of list) s.end();
      idle.clear();
    },
  };
}

export class ConnectTimeoutError extends Error {
  override readonly name = "ConnectTimeoutError";
  constructor() {
    super("connecting to the sandbox timed out");
  }
}
