import { describe, expect, test } from "bun:test";
import type { OutputSink } from "../exec/output-sink";
import { createMarkerSplitter, partialMarkerStart } from "./marker-splitter";

const prefix = Buffer.from("\x1eabc123:", "latin1");
const bytes = (s: string) => Buffer.from(s, "latin1");

function collector(): OutputSink & { text: () => string; ended: boolean } {
  const parts: Buffer[] = [];
  const sink = {
    ended: false,
    write: (b: Uint8Array) => void parts.push(Buffer.from(b)),
    end: () => {
      sink.ended = true;
    },
    text: () => Buffer.concat(parts).toString("latin1"),
  };
  return sink;
}

describe("marker splitter", () => {
  test("output before the marker belongs to the execution, the status comes from the marker", async () => {
    const splitter = createMarkerSplitter();
    const sink = collector();
    const done = splitter.expect(prefix, sink);
    splitter.feed(bytes("hello\n\x1eabc123:042\x1elate"));
    expect(await done).toBe(42);
    expect(sink.text()).toBe("hello\n");
    expect(sink.ended).toBe(true);
  });

  test("a marker split at every possible point across two reads is still found", async () => {
    const whole = "out\x1eabc123:007\x1e";
    for (let cut = 1; cut < whole.length; cut++) {
      const splitter = createMarkerSplitter();
      const sink = collector();
      const done = splitter.expect(prefix, sink);
      splitter.feed(bytes(whole.slice(0, cut)));
      splitter.feed(bytes(whole.slice(cut)));
      expect(await done).toBe(7);
      expect(sink.text()).toBe("out");
    }
  });

  test("text that merely resembles the marker is passed through as output", async () => {
    const splitter = createMarkerSplitter();
    const sink = collector();
    const done = splitter.expect(prefix, sink);
    splitter.feed(bytes("\x1eabc12X:000\x1e and \x1eabc"));
    splitter.feed(bytes("1239 more"));
    expect(sink.text()).toBe("\x1eabc12X:000\x1e and \x1eabc1239 more");
    splitter.feed(bytes("\x1eabc123:000\x1e"));
    expect(await done).toBe(0);
  });

  test("only a possible marker start is held back; plain output streams at once", () => {
    const splitter = createMarkerSplitter();
    const sink = collector();
    void splitter.expect(prefix, sink);
    splitter.feed(bytes("a\n"));
    expect(sink.text()).toBe("a\n");
    splitter.feed(bytes("b\x1eab"));
    expect(sink.text()).toBe("a\nb");
    expect(partialMarkerStart(bytes("xyz"), prefix)).toBe(3);
  });

  test("end of the pipe resolves a waiting execution with undefined; bytes outside one are dropped", async () => {
    const splitter = createMarkerSplitter();
    splitter.feed(bytes("nobody listens"));
    const sink = collector();
    const done = splitter.expect(prefix, sink);
    splitter.feed(bytes("partial"));
    splitter.close();
    expect(await done).toBeUndefined();
    expect(sink.text()).toBe("partial");
  });
});
