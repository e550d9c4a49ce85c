import { expect, test } from "bun:test";
import type { Pod, PodStatus } from "./pod-types";
import { createStatusWriter } from "./status-writer";

test("status writes: one at a time, latest state wins, nothing rewritten, failures retried", async () => {
  let phase = "Pending";
  const written: string[] = [];
  let failNext = false;
  let inFlight = 0;
  let maxInFlight = 0;
  const writer = createStatusWriter({
    render: (): PodStatus => ({ phase }),
    async write(status) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await Bun.sleep(20);
      inFlight--;
      if (failNext) {
        failNext = false;
        throw new Error("conflict");
      }
      written.push(status.phase ?? "");
      return {} as Pod;
    },
    onWritten: () => undefined,
    onError: () => undefined,
    retryMs: 10,
  });
  writer.kick();
  phase = "Running";
  writer.kick();
  writer.kick();
  await writer.flush(1000);
  // The first write carried Pending or Running; the last one carries the latest state.
  expect(written.at(-1)).toBe("Running");
  expect(maxInFlight).toBe(1);
  const count = written.length;
  writer.kick();
  await writer.flush(1000);
  expect(written.length).toBe(count);
  failNext = true;
  phase = "Succeeded";
  await writer.flush(1000);
  expect(written.at(-1)).toBe("Succeeded");
  writer.stop();
});
