import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import {
  isRunning,
  mintToken,
  removeTempDirs,
  startTestKorokd,
  type TestKorokd,
  waitUntil,
} from "../korokd-test-kit";

// Real processes on a shared machine: allow for load (bun test's default is 5 s).
setDefaultTimeout(30_000);

let korokd: TestKorokd;
beforeAll(async () => {
  korokd = await startTestKorokd({ "sse-heartbeat": "200ms" });
});
afterAll(async () => {
  await korokd.stop();
  removeTempDirs();
});

interface SseEvent {
  readonly event: string;
  readonly data: unknown;
  readonly atMs: number;
}

/** Reads an SSE body, calling `onEvent` for each event (comments are reported as event ":"). */
async function readEvents(res: Response, onEvent: (e: SseEvent) => boolean | undefined = () => undefined) {
  const started = performance.now();
  const events: SseEvent[] = [];
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return events;
    buffer += decoder.decode(value, { stream: true });
    let end = buffer.indexOf("\n\n");
    while (end !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf("\n\n");
      const event = parseBlock(block, performance.now() - started);
      events.push(event);
      if (onEvent(event) === true) {
        await reader.cancel();
        return events;
      }
    }
  }
}

function parseBlock(block: string, atMs: number): SseEvent {
  if (block.startsWith(":")) return { event: ":", data: block.slice(1).trim(), atMs };
  const event = /^event: (.*)$/m.exec(block)?.[1] ?? "message";
  const data = /^data: (.*)$/m.exec(block)?.[1] ?? "null";
  return { event, data: JSON.parse(data), atMs };
}

function stream(body: Record<string, unknown>, signal?: AbortSignal) {
  return korokd.call("/api/execute", body, {
    headers: { accept: "text/event-stream" },
    ...(signal ? { signal } : {}),
  });
}

describe("SSE execution", () => {
  test("stdout arrives while the run is still going, and a final exit event carries the result", async () => {
    const res = await stream({
      language: "python",
      code: "import sys, time\nprint('first')\ntime.sleep(0.8)\nprint('err', file=sys.stderr)\nprint('last')",
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("text/event-stream");
    const events = await readEvents(res);
    const first = events.find((e) => e.event === "stdout");
    const exit = events.find((e) => e.event === "exit");
    // Unbuffered print() may write "first" and its newline separately: only the order is guaranteed.
    expect((first as SseEvent).data).toEqual({ text: expect.stringMatching(/^first/) });
    const texts = events.filter((e) => e.event === "stdout").map((e) => (e.data as { text: string }).text);
    expect(texts.join("")).toBe("first\nlast\n");
    const errTexts = events.filter((e) => e.event === "stderr").map((e) => (e.data as { text: string }).text);
    expect(errTexts.join("")).toBe("err\n");
    expect(exit?.data).toMatchObject({
      exit_code: 0,
      stdout: "first\nlast\n",
      stderr: "err\n",
      timed_out: false,
    });
    // The first chunk was delivered long before the run (which sleeps 0.8 s) ended.
    expect((exit as SseEvent).atMs - (first as SseEvent).atMs).toBeGreaterThan(500);
    expect(events.at(-1)?.event).toBe("exit");
  });

  test("the stream opens at once and idle streams get heartbeat comments", async () => {
    const res = await stream({ language: "sh", code: "sleep 0.7; echo done" });
    const events = await readEvents(res);
    expect(events[0]?.event).toBe(":");
    expect(events.filter((e) => e.data === "ping").length).toBeGreaterThanOrEqual(2);
    expect(events.at(-1)).toMatchObject({ event: "exit", data: { stdout: "done\n" } });
  });

  test("the whole head and the opening comment reach the wire before the run writes anything", async () => {
    // Raw bytes, as a proxy reads them: fetch would hide a head that arrives in pieces.
    const { port } = new URL(korokd.url);
    const body = JSON.stringify({ language: "sh", code: "sleep 1.2; echo late" });
    const request =
      `POST /api/execute HTTP/1.1\r\nhost: 127.0.0.1\r\naccept: text/event-stream\r\n` +
      `authorization: Bearer ${await mintToken(korokd.keys.key)}\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
    const started = performance.now();
    let text = "";
    let openedAt = 0;
    let lateAt = 0;
    const closed = Promise.withResolvers<void>();
    await Bun.connect({
      hostname: "127.0.0.1",
      port: Number(port),
      socket: {
        open: (socket) => void socket.write(request),
        data: (_socket, chunk) => {
          text += chunk.toString();
          const head = text.indexOf("\r\n\r\n");
          if (!openedAt && head !== -1 && text.includes(": korokd", head))
            openedAt = performance.now() - started;
          if (!lateAt && text.includes("late")) lateAt = performance.now() - started;
        },
        close: () => closed.resolve(),
        error: (_socket, err) => closed.reject(err),
      },
    });
    await closed.promise;
    expect(text).toStartWith("HTTP/1.1 200");
    expect(openedAt).toBeGreaterThan(0);
    expect(lateAt - openedAt).toBeGreaterThan(800);
  });

  test("errors known before the run starts are plain JSON statuses, not streams", async () => {
    const res = await stream({ language: "fortran", code: "" });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: "unsupported_language" } });
  });

  test("closing the stream kills the run", async () => {
    const abort = new AbortController();
    const res = await stream(
      { language: "python", code: "import os, time\nprint(os.getpid())\ntime.sleep(1000)" },
      abort.signal,
    );
    let pid = 0;
    await readEvents(res, (e) => {
      if (e.event !== "stdout") return undefined;
      pid = Number((e.data as { text: string }).text.trim());
      return true;
    });
    abort.abort();
    expect(pid).toBeGreaterThan(0);
    await waitUntil(() => !isRunning(pid), 3000, "the interpreter to be killed");
  });

  test("a context execution streams too", async () => {
    const created = await korokd.call("/api/contexts", { language: "python" });
    const { id } = (await created.json()) as { id: string };
    const res = await stream({
      language: "python",
      context_id: id,
      code: "import time\nprint('a')\ntime.sleep(0.5)\nprint('b')",
    });
    const events = await readEvents(res);
    const chunks = events.filter((e) => e.event === "stdout").map((e) => (e.data as { text: string }).text);
    expect(chunks.join("")).toBe("a\nb\n");
    expect(chunks.length).toBeGreaterThanOrEqual(2);
    expect(events.at(-1)).toMatchObject({ event: "exit", data: { exit_code: 0, stdout: "a\nb\n" } });
  });
});
