/**
 * Watches a client's abort signal only for exchanges that are still waiting a moment after they began.
 * Taking a server request's `signal` and listening on it costs Bun several microseconds per request, most
 * sandbox answers arrive well before a client could notice anything, and Bun hands out an already aborted
 * signal when the client left before the signal was first asked for. So an exchange asks for it only
 * after `WATCH_AFTER_MS` (one shared timer for all of them): a client that goes away still aborts its
 * sandbox request, at most that much later.
 */

export interface LateWatched {
  /** Subscribes to the client's signal, unless the exchange is over already. */
  watch(): void;
}

export const WATCH_AFTER_MS = 20;

let waiting: LateWatched[] = [];
let timer: ReturnType<typeof setTimeout> | undefined;

export function watchLater(exchange: LateWatched): void {
  waiting.push(exchange);
  if (timer !== undefined) return;
  timer = setTimeout(watchWaiting, WATCH_AFTER_MS);
  // Exchanges keep their sockets (and so the process) alive by themselves.
  timer.unref();
}

function watchWaiting(): void {
  timer = undefined;
  const due = waiting;
  waiting = [];
  for (const exchange of due) exchange.watch();
}
