/** Child processes for gateway tests: started from the real entrypoint, stopped for sure. */
import { join } from "node:path";
import type { Subprocess } from "bun";

export const REPO_ROOT = join(import.meta.dir, "../../..");

export interface Child {
  readonly proc: Subprocess<"ignore", "pipe", "pipe">;
  /** Everything written to stdout and stderr so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

/** Spawns `bun <args>` and collects its output; resolves once `ready(line)` matched a stdout line. */
export async function spawnChild(
  args: string[],
  env: Record<string, string>,
  ready: (line: string) => boolean,
  timeoutMs = 20_000,
): Promise<{ child: Child; line: string }> {
  const proc = Bun.spawn([process.execPath, ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: process.env["HOME"] ?? "/tmp", ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let log = "";
  let readyLine: string | undefined;
  let onReady: ((line: string) => void) | undefined;
  const pump = async (stream: ReadableStream<Uint8Array>, watch: boolean) => {
    let partial = "";
    const decoder = new TextDecoder();
    for await (const bytes of stream) {
      const chunk = decoder.decode(bytes, { stream: true });
      log += chunk;
      if (!watch) continue;
      partial += chunk;
      const lines = partial.split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        if (readyLine === undefined && ready(line)) {
          readyLine = line;
          onReady?.(line);
        }
      }
    }
  };
  void pump(proc.stdout, true);
  void pump(proc.stderr, false);
  const child: Child = {
    proc,
    output: () => log,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill("SIGTERM");
      const killer = setTimeout(() => proc.kill("SIGKILL"), 5_000);
      await proc.exited;
      clearTimeout(killer);
    },
  };
  const line = await new Promise<string>((resolve, reject) => {
    if (readyLine !== undefined) return resolve(readyLine);
    onReady = resolve;
    const timer = setTimeout(
      () => reject(new Error(`bun ${args.join(" ")} not ready in time:\n${log}`)),
      timeoutMs,
    );
    void proc.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`bun ${args.join(" ")} exited with ${code}:\n${log}`));
    });
  }).catch(async (err: unknown) => {
    await child.stop();
    throw err;
  });
  return { child, line };
}

/** Polls `probe` until it returns a value other than undefined. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await Bun.sleep(50);
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${last})` : ""}`);
}

/**
 * A random /24 on loopback for this test file's pods. Second octets 240-254 lie outside the node agent's
 * pod networks (127.16-239.x.x), so these stand-in pods never take a real pod's address.
 */
export function loopbackSubnet(): string {
  return `127.${240 + Math.floor(Math.random() * 15)}.${1 + Math.floor(Math.random() * 250)}`;
}
