/**
 * Starts one interpreter process in its own session (so its whole process group can be signalled) and
 * hands it a program. Starting and handing over are separate steps: the warm pool starts interpreters
 * before any request arrives.
 */
import { rm, writeFile } from "node:fs/promises";
import { constants } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import type { Language, LaunchSpec } from "./languages";
import { programExt } from "./languages";
import type { Env } from "./sandbox-env";

export type PipedProcess = Subprocess<"pipe", "pipe", "pipe">;

/** What the orphan reaper needs to know about every process korokd starts itself. */
export interface SpawnedChild {
  readonly pid: number;
  readonly exited: Promise<number>;
}

export interface Interpreter {
  readonly proc: PipedProcess;
  readonly spec: LaunchSpec;
}

export interface InterpreterDirs {
  /** The user's working directory (cwd of every run). */
  readonly workspace: string;
  /** Korokd's private directory for program files the user never needs to see. */
  readonly scratch: string;
}

export function spawnInterpreter(
  spec: LaunchSpec,
  env: Env,
  dirs: InterpreterDirs,
  onSpawn: (child: SpawnedChild) => void,
): Interpreter {
  const proc = Bun.spawn({
    cmd: [...spec.argv],
    cwd: dirs.workspace,
    env: { ...env },
    stdio: ["pipe", "pipe", "pipe"],
    // setsid(): the interpreter leads a new process group, so a run's grandchildren can be killed with it.
    detached: true,
  });
  onSpawn(proc);
  return { proc, spec };
}

/**
 * Gives the program to the interpreter and closes its stdin. Returns the program file to remove once
 * the run is over, if one was written. A process that died before reading gets no error here: its exit
 * status tells the story.
 */
export async function deliverProgram(
  interpreter: Interpreter,
  code: string,
  language: Language,
  dirs: InterpreterDirs,
): Promise<string | undefined> {
  const { proc, spec } = interpreter;
  let file: string | undefined;
  let payload = code;
  if (spec.delivery === "file") {
    const dir = spec.fileDir === "workspace" ? dirs.workspace : dirs.scratch;
    file = join(dir, `.korokd-${crypto.randomUUID()}${programExt(language)}`);
    await writeFile(file, code, { mode: 0o600 });
    payload = `${file}\n`;
  }
  try {
    proc.stdin.write(payload);
    await proc.stdin.end();
  } catch {
    // EPIPE: the interpreter is already gone; the caller reads its exit status.
  }
  return file;
}

export async function removeProgramFile(file: string | undefined): Promise<void> {
  if (file !== undefined) await rm(file, { force: true });
}

/** Exit code as a shell reports it: the process's own code, or 128 + signal number when killed. */
export function exitCodeOf(proc: Subprocess): number {
  if (proc.exitCode !== null) return proc.exitCode;
  const signal = proc.signalCode;
  if (signal === null) return 128;
  return 128 + (typeof signal === "number" ? signal : constants.signals[signal as NodeJS.Signals]);
}
