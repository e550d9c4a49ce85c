/**
 * Splits a context interpreter's long-lived output pipe into executions. After each execution the
 * driver writes a marker `\x1e<nonce>:<3-digit status>\x1e`; the nonce is fresh per execution, so
 * output can never end an execution by accident. Bytes before the marker belong to the execution;
 * bytes while no execution waits (a background task printing late) are dropped.
 */
import type { OutputSink } from "../exec/output-sink";

export const MARKER_STATUS_LENGTH = 4; // "NNN" + "\x1e"

export interface MarkerSplitter {
  /** Sends bytes to `sink` until the marker with `prefix` arrives; resolves with its status. */
  expect(prefix: Uint8Array, sink: OutputSink): Promise<number>;
  feed(chunk: Uint8Array): void;
  /** The pipe closed: a pending execution gets `undefined`. */
  close(): void;
}

interface Waiter {
  readonly prefix: Buffer;
  readonly sink: OutputSink;
  readonly resolve: (status: number | undefined) => void;
}

export function createMarkerSplitter(): MarkerSplitter {
  let waiter: Waiter | undefined;
  let pending = Buffer.alloc(0);

  function finish(status: number | undefined): void {
    const w = waiter as Waiter;
    waiter = undefined;
    pending = Buffer.alloc(0);
    w.sink.end();
    w.resolve(status);
  }

  return {
    expect(prefix, sink) {
      if (waiter !== undefined) finish(undefined);
      return new Promise((resolve) => {
        waiter = { prefix: Buffer.from(prefix), sink, resolve: resolve as Waiter["resolve"] };
      });
    },
    feed(chunk) {
      if (waiter === undefined) return;
      const buf = pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([pending, chunk]);
      const { prefix, sink } = waiter;
      const at = buf.indexOf(prefix);
      if (at === -1) {
        // Hold back only a tail that could be the start of a marker split across reads; everything
        // else streams on at once.
        const keepFrom = partialMarkerStart(buf, prefix);
        sink.write(buf.subarray(0, keepFrom));
        pending = Buffer.from(buf.subarray(keepFrom));
        return;
      }
      sink.write(buf.subarray(0, at));
      const end = at + prefix.length + MARKER_STATUS_LENGTH;
      if (buf.length < end) {
        pending = Buffer.from(buf.subarray(at));
        return;
      }
      finish(Number(buf.subarray(at + prefix.length, end - 1).toString("latin1")));
    },
    close() {
      if (waiter !== undefined) finish(undefined);
    },
  };
}

/** Start of the longest tail of `buf` that is a proper prefix of `prefix`, or `buf.length` if none. */
export function partialMarkerStart(buf: Buffer, prefix: Buffer): number {
  const first = prefix[0] as number;
  for (let k = Math.max(0, buf.length - prefix.length + 1); k < buf.length; k++) {
    if (buf[k] !== first) continue;
    if (buf.subarray(k).equals(prefix.subarray(0, buf.length - k))) return k;
  }
  return buf.length;
}
