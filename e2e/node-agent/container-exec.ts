/**
 * Runs a command inside a running container (exec probes and lifecycle hooks): nsenter joins the
 * container's mount, UTS, IPC and PID namespaces and its root, then the command runs as the
 * container's user with the container's environment and working directory. The command gets its own
 * process group so a timeout kills it together with anything it started.
 */
import { signalGroup } from "./process-group";

export interface ExecTarget {
  readonly nsenter: string;
  /** The container's main process, as seen from the host (bwrap's own PID 1 has not the container's root). */
  readonly targetPid: number;
  readonly env: Readonly<Record<string, string>>;
  readonly workingDir?: string;
  readonly user?: { readonly uid: number; readonly gid: number };
}

export interface ExecResult {
  readonly exitCode: number;
  readonly output: string;
  readonly timedOut: boolean;
}

const MAX_OUTPUT = 10 * 1024;

export function execArgv(target: ExecTarget, command: readonly string[]): string[] {
  const argv = [
    target.nsenter,
    `--target=${target.targetPid}`,
    "--mount",
    "--uts",
    "--ipc",
    "--pid",
    "--root",
    `--wdns=${target.workingDir ?? "/"}`,
    "--",
  ];
  if (target.user && target.user.uid !== 0) {
    argv.push("setpriv", `--reuid=${target.user.uid}`, `--regid=${target.user.gid}`, "--clear-groups", "--");
  }
  argv.push("env", "-i", ...Object.entries(target.env).map(([k, v]) => `${k}=${v}`), ...command);
  return argv;
}

export async function execInContainer(
  target: ExecTarget,
  command: readonly string[],
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<ExecResult> {
  const proc = Bun.spawn(execArgv(target, command), {
    detached: true,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let timedOut = false;
  const kill = () => signalGroup(proc.pid, "SIGKILL");
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, timeoutMs);
  signal?.addEventListener("abort", kill, { once: true });
  try {
    const [out, err, exitCode] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    return { exitCode, output: (out + err).slice(0, MAX_OUTPUT), timedOut };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", kill);
  }
}
