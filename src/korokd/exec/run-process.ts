/**
 * What `runOneShot` drives: one started process tree for one program, whoever started it (a spawned,
 * pre-started interpreter, or a child forked by the python fork server). The process leads its own
 * process group, so signalling `-pid` reaches everything it started that stayed in the group.
 */
import {
  deliverProgram,
  exitCodeOf,
  type Interpreter,
  type InterpreterDirs,
  removeProgramFile,
} from "./interpreter";
import type { Language } from "./languages";

export interface RunProcess {
  readonly pid: number;
  readonly stdout: ReadableStream<Uint8Array>;
  readonly stderr: ReadableStream<Uint8Array>;
  /** The exit code as a shell reports it (128 + n when killed by signal n); never rejects. */
  readonly exited: Promise<number>;
  /** Hands the program over if the launcher did not already; the run is under way afterwards. */
  start(): Promise<void>;
  /** Frees what the run held (a program file, pipe descriptors) once its output was read. */
  release(): Promise<void>;
}

/** A spawned interpreter that still waits for its program on stdin. */
export function interpreterRun(
  interpreter: Interpreter,
  code: string,
  language: Language,
  dirs: InterpreterDirs,
): RunProcess {
  const { proc } = interpreter;
  let file: string | undefined;
  return {
    pid: proc.pid,
    stdout: proc.stdout,
    stderr: proc.stderr,
    exited: proc.exited.then(() => exitCodeOf(proc)),
    async start() {
      file = await deliverProgram(interpreter, code, language, dirs);
    },
    release: () => removeProgramFile(file),
  };
}
