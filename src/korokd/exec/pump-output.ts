/**
 * Reads one output pipe to its end into a sink. Reading continues past the output cap (the sink drops
 * those bytes) so a chatty process never blocks on a full pipe.
 */
import type { OutputSink } from "./output-sink";

export interface Pump {
  /** Resolves when the pipe reached end of file or the pump was cancelled; never rejects. */
  readonly done: Promise<void>;
  cancel(): void;
}

export function pumpOutput(stream: ReadableStream<Uint8Array>, sink: OutputSink): Pump {
  const reader = stream.getReader();
  const done = (async () => {
    try {
      for (;;) {
        const { done: eof, value } = await reader.read();
        if (eof) break;
        sink.write(value);
      }
    } catch {
      // Cancelled or the pipe broke; what was captured stands.
    }
    sink.end();
  })();
  return {
    done,
    cancel() {
      reader.cancel().catch(() => {});
    },
  };
}
