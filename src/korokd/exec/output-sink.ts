/**
 * Where the bytes of one output stream of one execution go: into its capped capture, and (as decoded
 * text, multi-byte characters never split) to the streaming listener if there is one.
 */
import type { OutputCapture } from "./output-capture";
import type { OutputListener, OutputStream } from "./run-result";

export interface OutputSink {
  write(bytes: Uint8Array): void;
  /** Flushes a trailing partial character, if any. */
  end(): void;
}

export function createOutputSink(
  capture: OutputCapture,
  name: OutputStream,
  onOutput: OutputListener | undefined,
): OutputSink {
  const decoder = new TextDecoder();
  return {
    write(bytes) {
      const kept = capture.push(bytes);
      if (onOutput === undefined || kept.length === 0) return;
      const text = decoder.decode(kept, { stream: true });
      if (text !== "") onOutput(name, text);
    },
    end() {
      const rest = decoder.decode();
      if (onOutput !== undefined && rest !== "") onOutput(name, rest);
    },
  };
}
