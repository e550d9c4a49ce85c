/** The upstream client against real servers on loopback: Bun.serve, and raw TCP for misbehaviour. */
import { afterAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { HeadersTimeoutError } from "./http1-exchange";
import { NoResponseError } from "./request-writer";
import { createUpstreamClient, InvalidTargetError, type UpstreamRequest } from "./upstream-client";

const client = createUpstreamClient({ idleTimeoutMs: 60_000 });
const servers: { stop(force?: boolean): unknown }[] = [];
afterAll(() => {
  client.close();
  for (const s of servers) s.stop(true);
});

function serve(fetch: (req: Request) => Response | Promise<Response>) {
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch,
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    idleTimeout: 0,
  });
  servers.push(server);
  return server.port as number;
}

function call(port: number, init: Partial<UpstreamRequest> = {}) {
  let finished = 0;
  const res = client.request({
    host: "127.0.0.1",
    port,
    method: "GET",
    target: "/",
    headers: [],
    body: null,
    signal: new AbortController().signal,
    onFinish: () => finished++,
    ...init,
  });
  return { res, finished: () => finished };
}

async function text(body: Uint8Array | ReadableStream<Uint8Array> | null): Promise<string> {
  return body === null ? "" : new Response(body).text();
}

describe("upstream client", () => {
  test("a header value with bytes above 0x7f reaches the sandbox byte for byte", async () => {
    let seen: string | null = null;
    const port = serve((req) => {
      seen = req.headers.get("x-latin1");
      return new Response("ok");
    });
    // What a client's `x-latin1: caf\xe9` looks like once Bun parsed it (one char per byte).
    const { res } = call(port, { headers: [["x-latin1", "caf\u00e9"]] });
    expect((await res).status).toBe(200);
    expect(seen as string | null).toBe("caf\u00e9");
  });

  test("method, target, headers and body arrive as sent", async () => {
    const seen: string[] = [];
    const port = serve(async (req) => {
      seen.push(
        `${req.method} ${new URL(req.url).pathname}${new URL(req.url).search} ${req.headers.get("x-a")} ${await req.text()}`,
      );
      return new Response("ok", { headers: { "x-b": "2" } });
    });
    for (const [method, body] of [
      ["GET", null],
      ["POST", "hello"],
      ["PUT", ""],
      ["DELETE", null],
    ] as const) {
      const { res, finished } = call(port, { method, target: "/p/a%2fb?q=1", headers: [["x-a", "1"]], body });
      const r = await res;
      expect([r.status, await text(r.body)]).toEqual([200, "ok"]);
      expect(r.headers).toContainEqual(["x-b", "2"]);
      expect(finished()).toBe(1);
    }
    expect(seen).toEqual([
      "GET /p/a%2fb?q=1 1 ",
      "POST /p/a%2fb?q=1 1 hello",
      "PUT /p/a%2fb?q=1 1 ",
      "DELETE /p/a%2fb?q=1 1 ",
    ]);
  });

  test("a streamed upload of unknown length goes out chunked, one of known length as declared", async () => {
    const port = serve(async (req) => {
      const hash = createHash("sha256");
      let bytes = 0;
      for await (const chunk of req.body as ReadableStream<Uint8Array>) {
        bytes += chunk.byteLength;
        hash.update(chunk);
      }
      return Response.json({ bytes, te: req.headers.get("transfer-encoding"), sha: hash.digest("hex") });
    });
    const part = new Uint8Array(300_000).map((_, i) => i % 256);
    const expected = createHash("sha256").update(part).update(part).update(part).digest("hex");
    const stream = () => new Blob([part, part, part]).stream();
    const chunked = await (await call(port, { method: "POST", body: stream() }).res).body;
    expect(JSON.parse(await text(chunked))).toEqual({ bytes: 900_000, te: "chunked", sha: expected });
    const sized = await (await call(port, { method: "POST", body: stream(), bodyLength: 900_000 }).res).body;
    expect(JSON.parse(await text(sized))).toEqual({ bytes: 900_000, te: null, sha: expected });
  });

  test("a streamed response arrives incrementally and finishes once", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const port = serve(
      () =>
        new Response(
          new ReadableStream({
            async start(c) {
              c.enqueue(new TextEncoder().encode("first"));
              await gate;
              c.enqueue(new TextEncoder().encode("second"));
              c.close();
            },
          }),
        ),
    );
    const { res, finished } = call(port);
    const reader = ((await res).body as ReadableStream<Uint8Array>).getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("first");
    expect(finished()).toBe(0);
    release();
    let rest = "";
    for (let r = await reader.read(); !r.done; r = await reader.read())
      rest += new TextDecoder().decode(r.value);
    expect(rest).toBe("second");
    expect(finished()).toBe(1);
  });

  test("no response head in time is a HeadersTimeoutError; a slow upload that progresses is not", async () => {
    const port = serve(async (req) => {
      if (new URL(req.url).pathname === "/slow") await Bun.sleep(500);
      return new Response(String((await req.arrayBuffer()).byteLength));
    });
    await expect(call(port, { target: "/slow", headersTimeoutMs: 100 }).res).rejects.toBeInstanceOf(
      HeadersTimeoutError,
    );
    let n = 0;
    const trickle = new ReadableStream<Uint8Array>({
      async pull(c) {
        await Bun.sleep(40);
        if (n++ === 8) c.close();
        else c.enqueue(new Uint8Array(10));
      },
    });
    const r = await call(port, { method: "POST", body: trickle, headersTimeoutMs: 150 }).res;
    expect(await text(r.body)).toBe("80");
  });

  test("an answer before the upload ended (e.g. 413) reaches the caller and stops the upload", async () => {
    const port = serve(() => new Response("too large", { status: 413 }));
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(c) {
        pulled++;
        c.enqueue(new Uint8Array(64 * 1024));
      },
    });
    const { res, finished } = call(port, { method: "POST", body: endless });
    const r = await res;
    expect([r.status, await text(r.body)]).toEqual([413, "too large"]);
    const before = pulled;
    await Bun.sleep(200);
    expect(pulled - before).toBeLessThan(64);
    expect(finished()).toBe(1);
  });

  test("a keep-alive connection the server drops as the next request arrives is retried on a new one", async () => {
    let connections = 0;
    const server = Bun.listen<{ requests: number }>({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open(socket) {
          connections++;
          socket.data = { requests: 0 };
        },
        data(socket) {
          // One answer per connection; the next request finds it closing, as with an idle timeout race.
          if (socket.data.requests++ === 0) socket.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
          else socket.end();
        },
      },
    });
    servers.push(server);
    for (let i = 0; i < 3; i++) {
      const r = await call(server.port).res;
      expect(await text(r.body)).toBe("ok");
    }
    expect(connections).toBe(3);
    // A streamed body cannot be replayed: that request fails instead of being sent twice.
    const body = new Blob(["x"]).stream();
    await expect(call(server.port, { method: "POST", body }).res).rejects.toBeInstanceOf(NoResponseError);
  });

  test("refused connections, garbage answers and bad targets fail clearly", async () => {
    const closed = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const port = closed.port;
    closed.stop(true);
    await expect(call(port).res).rejects.toMatchObject({ code: "ECONNREFUSED" });
    const garbage = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        data: (s) => void s.write("HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n"),
      },
    });
    servers.push(garbage);
    await expect(call(garbage.port).res).rejects.toThrow("Content-Length");
    const silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data: (s) => void s.end() } });
    servers.push(silent);
    await expect(call(silent.port).res).rejects.toBeInstanceOf(NoResponseError);
    for (const target of ["http://evil/", "/a b", "/\r\nx: y", "*"]) {
      await expect(call(garbage.port, { target }).res).rejects.toBeInstanceOf(InvalidTargetError);
    }
  });

  test("aborting mid-body closes the connection and ends the stream with an error", async () => {
    const port = serve(
      () =>
        new Response(
          new ReadableStream({
            pull: async (c) => {
              await Bun.sleep(10);
              c.enqueue(new Uint8Array(10));
            },
          }),
        ),
    );
    const abort = new AbortController();
    const { res, finished } = call(port, { signal: abort.signal });
    const reader = ((await res).body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    abort.abort(new Error("client gone"));
    await expect(
      (async () => {
        for (;;) if ((await reader.read()).done) return;
      })(),
    ).rejects.toThrow("client gone");
    expect(finished()).toBe(1);
  });

  test("a client signal asked for late still aborts a sandbox that has not answered, and is never asked for a quick answer", async () => {
    let aborted = false;
    const port = serve(
      (req) =>
        new Promise<Response>((resolve) => {
          req.signal.addEventListener("abort", () => {
            aborted = true;
            resolve(new Response(null, { status: 499 }));
          });
        }),
    );
    const gone = new AbortController();
    gone.abort(new Error("client gone")); // gone before the signal was ever asked for
    let asked = 0;
    const slow = call(port, {
      signal: () => {
        asked++;
        return gone.signal;
      },
    });
    await expect(slow.res).rejects.toThrow("client gone");
    expect(asked).toBeGreaterThan(0);
    expect(slow.finished()).toBe(1);
    while (!aborted) await Bun.sleep(5);

    const quickPort = serve(() => new Response("quick"));
    // A new connection asks for the signal at once (connecting may take long): open one first.
    expect(await text((await call(quickPort).res).body)).toBe("quick");
    let quickAsked = 0;
    const quick = call(quickPort, {
      signal: () => {
        quickAsked++;
        return new AbortController().signal;
      },
    });
    expect(await text((await quick.res).body)).toBe("quick");
    await Bun.sleep(50);
    expect(quickAsked).toBe(0);
  });
});
