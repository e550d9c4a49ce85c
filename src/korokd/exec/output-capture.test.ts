import { describe, expect, test } from "bun:test";
import { createOutputCapture, utf8Boundary } from "./output-capture";

const enc = (s: string) => new TextEncoder().encode(s);

describe("output capture", () => {
  test("keeps everything up to the limit without flagging truncation", () => {
    const capture = createOutputCapture(10);
    capture.push(enc("hello"));
    capture.push(enc("world"));
    expect(capture.text()).toBe("helloworld");
    expect(capture.truncated).toBe(false);
  });

  test("drops bytes past the limit, flags it, and returns only what was kept", () => {
    const capture = createOutputCapture(8);
    expect(capture.push(enc("12345"))).toHaveLength(5);
    expect(new TextDecoder().decode(capture.push(enc("67890")))).toBe("678");
    expect(capture.push(enc("more"))).toHaveLength(0);
    expect(capture.text()).toBe("12345678");
    expect(capture.truncated).toBe(true);
  });

  test("never cuts a multi-byte UTF-8 character in half", () => {
    const capture = createOutputCapture(5);
    capture.push(enc("ab€€")); // € is 3 bytes: the second one would straddle the cut
    expect(capture.text()).toBe("ab€");
    expect(capture.truncated).toBe(true);
    expect(utf8Boundary(enc("a😀"), 3)).toBe(1);
    expect(utf8Boundary(enc("abc"), 2)).toBe(2);
  });
});
