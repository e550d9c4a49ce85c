import { describe, expect, test } from "bun:test";
import { createResponseParser, ProtocolError, type ResponseHead } from "./response-parser";

function parse(method: string, parts: string[], close = false) {
  let head: ResponseHead | undefined;
  const body: string[] = [];
  let ended = 0;
  const parser = createResponseParser(method, {
    head: (h) => {
      head = h;
    },
    data: (c) => body.push(Buffer.from(c).toString("latin1")),
    end: () => ended++,
  });
  for (const p of parts) parser.push(Buffer.from(p, "latin1"));
  if (close) parser.close();
  return { head, body: body.join(""), ended, parser };
}

/** Every split of `text` into two pieces must parse the same as the whole. */
function everySplit(method: string, text: string) {
  const results = new Set<string>();
  for (let i = 0; i <= text.length; i++) {
    const r = parse(method, [text.slice(0, i), text.slice(i)]);
    results.add(JSON.stringify([r.head?.status, r.body, r.ended, r.parser.reusable]));
  }
  return [...results];
}

describe("upstream response parser", () => {
  test("a Content-Length body parses the same however the bytes are split", () => {
    const text = "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 5\r\n\r\nhello";
    expect(everySplit("GET", text)).toEqual([JSON.stringify([200, "hello", 1, true])]);
    const { head } = parse("GET", [text]);
    expect(head?.headers).toEqual([
      ["content-type", "text/plain"],
      ["content-length", "5"],
    ]);
    expect(head?.contentLength).toBe(5);
  });

  test("a chunked body is decoded, extensions and trailers ignored, however it is split", () => {
    const text =
      "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nx-trailer: t\r\n\r\n";
    expect(everySplit("GET", text)).toEqual([JSON.stringify([200, "hello world", 1, true])]);
  });

  test("Transfer-Encoding wins over Content-Length (request smuggling defence)", () => {
    const r = parse("GET", [
      "HTTP/1.1 200 OK\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    ]);
    expect(r.body).toBe("hello");
    expect(r.ended).toBe(1);
  });

  test("a body without framing lasts until the connection closes and the connection is not reused", () => {
    const r = parse("GET", ["HTTP/1.1 200 OK\r\n\r\npart1", "part2"], true);
    expect(r.body).toBe("part1part2");
    expect(r.ended).toBe(1);
    expect(r.parser.reusable).toBe(false);
  });

  test("HEAD, 204 and 304 answers have no body; interim 100 answers are skipped", () => {
    expect(parse("HEAD", ["HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n"]).parser.reusable).toBe(true);
    expect(parse("GET", ["HTTP/1.1 204 No Content\r\n\r\n"]).ended).toBe(1);
    expect(parse("GET", ["HTTP/1.1 304 Not Modified\r\ncontent-length: 9\r\n\r\n"]).ended).toBe(1);
    const r = parse("POST", [
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\nok",
    ]);
    expect([r.head?.status, r.body]).toEqual([201, "ok"]);
  });

  test("Connection: close and HTTP/1.0 make the connection single-use", () => {
    expect(
      parse("GET", ["HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n"]).parser.reusable,
    ).toBe(false);
    expect(parse("GET", ["HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n"]).parser.reusable).toBe(false);
  });

  test("malformed or ambiguous answers are protocol errors", () => {
    const bad = [
      "HTTP/2 200 OK\r\n\r\n",
      "HTTP/1.1 200 OK\r\nfolded: a\r\n b\r\n\r\n",
      "HTTP/1.1 200 OK\r\nbad name: x\r\n\r\n",
      "HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n",
      "HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n",
      "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
      "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1\r\nab\r\n",
      "HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\nab",
      "HTTP/1.1 101 Switching Protocols\r\n\r\n",
    ];
    for (const text of bad) expect(() => parse("GET", [text]), text).toThrow(ProtocolError);
    expect(() => parse("GET", ["HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nab"], true)).toThrow(
      ProtocolError,
    );
    expect(() => parse("GET", [`HTTP/1.1 200 OK\r\nx: ${"a".repeat(70_000)}`])).toThrow(ProtocolError);
  });
});
