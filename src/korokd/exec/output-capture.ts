/**
 * Keeps at most `limit` bytes of one output stream and remembers whether anything was cut. Bytes past
 * the limit are dropped as they arrive, so an output flood costs reading time but no memory. The cut
 * never splits a UTF-8 sequence, so the kept text decodes cleanly.
 */

export interface OutputCapture {
  /** Stores what fits and returns exactly the bytes that were kept (possibly empty). */
  push(chunk: Uint8Array): Uint8Array;
  text(): string;
  readonly truncated: boolean;
}

export function createOutputCapture(limit: number): OutputCapture {
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  return {
    push(chunk) {
      if (truncated) return EMPTY;
      if (size + chunk.length <= limit) {
        chunks.push(chunk);
        size += chunk.length;
        return chunk;
      }
      truncated = true;
      const kept = chunk.subarray(0, utf8Boundary(chunk, limit - size));
      chunks.push(kept);
      size += kept.length;
      return kept;
    },
    text: () => Buffer.concat(chunks, size).toString("utf8"),
    get truncated() {
      return truncated;
    },
  };
}

const EMPTY = new Uint8Array(0);

/** The largest cut point ≤ `end` that does not fall inside a multi-byte UTF-8 sequence. */
export function utf8Boundary(bytes: Uint8Array, end: number): number {
  let cut = Math.min(end, bytes.length);
  if (cut === bytes.length) return cut;
  // Step back over continuation bytes (10xxxxxx) to the start of the sequence that straddles the cut.
  let back = 0;
  while (cut - back > 0 && back < 4 && ((bytes[cut - back] as number) & 0xc0) === 0x80) back++;
  cut -= back;
  return cut;
}
