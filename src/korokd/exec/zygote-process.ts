/**
 * One running python zygote (see zygote-program.ts) and korokd's end of its protocol: send a run,
 * learn the child's pid and receive its output pipes, learn its exit status when the zygote reaped it.
 */
import { closeSync } from "node:fs";
import type { Subprocess } from "bun";
import type { SpawnedChild } from "./interpreter";
import type { Env } from "./sandbox-env";
import { receiveFds, socketPair } from "./unix-fds";
import { ZYGOTE_PROGRAM } from "./zygote-program";

type ZygoteSubprocess = Subprocess<"pipe", "pipe", "pipe">;

export interface ForkedChild {
  readonly pid: number;
  /** Read ends of the child's stdout and stderr pipes, owned by the caller from now on. */
  readonly stdoutFd: number;
  readonly stderrFd: number;
  /** Exit code as a shell reports it, once the zygote reaped the child. */
  readonly exited: Promise<number>;
}

export interface Zygote {
  readonly pid: number;
  /** True once the zygote booted; false when it exited first. */
  readonly ready: Promise<boolean>;
  /** Resolves when the zygote process is gone (with whatever status). */
  readonly exited: Promise<void>;
  /**
   * Forks a child for one run: undefined when fork() failed (nothing runs); rejects if the zygote died
   * before reporting the child.
   */
  fork(env: Env, code: string): Promise<ForkedChild | undefined>;
  /** Children forked and not yet reported as exited, with the resolver of each one's exit. */
  orphans(): Map<number, (code: number) => void>;
  kill(): void;
}

export interface ZygoteOptions {
  readonly python: string;
  /** The zygote's own environment; each run brings its own. */
  readonly env: Env;
  readonly workspace: string;
  readonly onSpawn: (child: SpawnedChild) => void;
  /** Lines the zygote writes to its stderr (python's own errors). */
  readonly onStderr: (line: string) => void;
}

interface Pending {
  resolve(child: ForkedChild | undefined): void;
  reject(err: Error): void;
}

export function startZygote(options: ZygoteOptions): Zygote {
  const [ours, theirs] = socketPair();
  let proc: ZygoteSubprocess;
  try {
    proc = Bun.spawn({
      cmd: [options.python, "-c", ZYGOTE_PROGRAM, options.workspace],
      cwd: options.workspace,
      env: { ...options.env },
      stdio: ["pipe", "pipe", "pipe", theirs],
      detached: true,
    }) as ZygoteSubprocess;
  } catch (err) {
    closeSync(ours);
    throw err;
  } finally {
    closeSync(theirs);
  }
  options.onSpawn(proc);
  return new ZygoteConnection(proc, ours, options);
}

class ZygoteConnection implements Zygote {
  readonly pid: number;
  readonly ready: Promise<boolean>;
  readonly exited: Promise<void>;
  private markReady: (ok: boolean) => void = () => {};
  private readonly pending = new Map<number, Pending>();
  private readonly running = new Map<number, (code: number) => void>();
  private nextId = 1;
  private dead = false;

  constructor(
    private readonly proc: ZygoteSubprocess,
    private readonly socket: number,
    options: ZygoteOptions,
  ) {
    this.pid = proc.pid;
    this.ready = new Promise((resolve) => (this.markReady = resolve));
    void readLines(proc.stderr, options.onStderr);
    const events = readLines(proc.stdout, (line) => this.onEvent(line));
    this.exited = Promise.all([proc.exited, events]).then(() => this.onExit());
  }

  fork(env: Env, code: string): Promise<ForkedChild | undefined> {
    if (this.dead) return Promise.reject(new Error("the python zygote is not running"));
    const id = this.nextId++;
    const envBytes = Buffer.from(
      Object.entries(env)
        .map(([k, v]) => `${k}=${v}\0`)
        .join(""),
    );
    const codeBytes = Buffer.from(code);
    const header = Buffer.from(`run ${id} ${envBytes.length} ${codeBytes.length}\n`);
    const forked = new Promise<ForkedChild | undefined>((resolve, reject) =>
      this.pending.set(id, { resolve, reject }),
    );
    try {
      this.proc.stdin.write(Buffer.concat([header, envBytes, codeBytes]));
      void Promise.resolve(this.proc.stdin.flush()).catch(() => this.kill());
    } catch {
      // EPIPE: the zygote is gone; its exit rejects the pending fork.
      this.kill();
    }
    return forked;
  }

  orphans(): Map<number, (code: number) => void> {
    return new Map(this.running);
  }

  kill(): void {
    try {
      this.proc.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }

  private onEvent(line: string): void {
    const [word, a, b] = line.split(" ");
    if (word === "ready") this.markReady(true);
    else if (word === "forked") this.onForked(Number(a), Number(b));
    else if (word === "exit") this.onChildExit(Number(a), Number(b));
    else if (word === "failed") this.settleFork(Number(a), undefined);
    else this.kill(); // Not our protocol: start over with a fresh zygote.
  }

  private onForked(id: number, pid: number): void {
    const received = receiveFds(this.socket, 2);
    const [stdoutFd, stderrFd] = received?.fds ?? [];
    if (received?.payload !== String(id) || stdoutFd === undefined || stderrFd === undefined) {
      for (const fd of received?.fds ?? []) closeSync(fd);
      this.settleFork(id, new Error("the python zygote sent no pipes for its child"));
      this.kill();
      return;
    }
    const exited = new Promise<number>((resolve) => this.running.set(pid, resolve));
    this.settleFork(id, { pid, stdoutFd, stderrFd, exited });
  }

  private onChildExit(pid: number, code: number): void {
    this.running.get(pid)?.(code);
    this.running.delete(pid);
  }

  private settleFork(id: number, outcome: ForkedChild | Error | undefined): void {
    const pending = this.pending.get(id);
    this.pending.delete(id);
    if (outcome instanceof Error) pending?.reject(outcome);
    else pending?.resolve(outcome);
  }

  private onExit(): void {
    this.dead = true;
    this.markReady(false);
    for (const { reject } of this.pending.values()) {
      reject(new Error("the python zygote exited before it reported the run's process"));
    }
    this.pending.clear();
    // Drain what is still queued (pipes of children never reported) so no descriptor leaks.
    for (let left = receiveFds(this.socket, 2); left !== undefined; left = receiveFds(this.socket, 2)) {
      for (const fd of left.fds) closeSync(fd);
    }
    closeSync(this.socket);
  }
}

/** Calls `onLine` for each complete line of a stream; resolves at its end. */
export async function readLines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void) {
  const decoder = new TextDecoder();
  let rest = "";
  try {
    for await (const chunk of stream) {
      const lines = (rest + decoder.decode(chunk, { stream: true })).split("\n");
      rest = lines.pop() as string;
      for (const line of lines) onLine(line);
    }
  } catch {
    // The pipe broke: the zygote is gone.
  }
}
