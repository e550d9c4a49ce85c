import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { silentLogger } from "../../log/logger";
import { isRunning, removeTempDirs, startTestKorokd, tempDir, waitUntil } from "../korokd-test-kit";
import { createForkServer, type ForkServer } from "./fork-server";
import { spawnInterpreter } from "./interpreter";
import { launchSpec } from "./languages";
import { createOomCounter } from "./oom-counter";
import { runOneShot } from "./run-one-shot";
import { interpreterRun, type RunProcess } from "./run-process";
import type { RunResult } from "./run-result";
import { baseEnv, type Env, sandboxEnv } from "./sandbox-env";

// Real processes on a shared machine: allow for load (bun test's default is 5 s).
setDefaultTimeout(30_000);

const PYTHON = "/usr/bin/python3";
const workspace = tempDir("korokd-fork-ws-");
const dirs = { workspace, scratch: tempDir("korokd-fork-scratch-") };
const env = baseEnv(workspace);
const oom = createOomCounter([]);
let server: ForkServer;

beforeAll(async () => {
  server = createForkServer({
    python: PYTHON,
    workspace,
    baseEnv: env,
    onSpawn: () => {},
    log: silentLogger,
  });
  expect(await server.ready(10_000)).toBe(true);
});
afterAll(() => {
  server.stop();
  removeTempDirs();
});

function drive(process: RunProcess, timeoutMs = 10_000): Promise<RunResult> {
  return runOneShot({
    process,
    limits: { timeoutMs, outputLimitBytes: 1024 * 1024, killGraceMs: 200 },
    signal: new AbortController().signal,
    oom,
  });
}

/** A run served by the fork server (it must serve it: no fallback here). */
async function forked(code: string, requestEnv?: Env, timeoutMs?: number): Promise<RunResult> {
  const process = await server.launch(code, requestEnv);
  if (process === undefined) throw new Error("the fork server did not serve the run");
  return await drive(process, timeoutMs);
}

/** The same program in a freshly started `python3 -`, as korokd ran every one-shot run before. */
async function fresh(code: string, requestEnv?: Env): Promise<RunResult> {
  const spec = launchSpec("python", { python: PYTHON, bash: "/bin/bash", sh: "/bin/sh", bun: "/bin/false" });
  const interpreter = spawnInterpreter(spec, sandboxEnv(env, requestEnv, {}), dirs, () => {});
  return await drive(interpreterRun(interpreter, code, "python", dirs));
}

/** What a program shows; object addresses (`<function f at 0x7f…>`) differ between any two processes. */
const observed = (r: RunResult) => ({
  exit_code: r.exit_code,
  stdout: r.stdout.replace(/0x[0-9a-f]+/g, "0x…"),
  stderr: r.stderr.replace(/0x[0-9a-f]+/g, "0x…"),
});

describe("a forked run behaves as a fresh python3 -", () => {
  test.each([
    ["output and exit 0", "print(6 * 7)"],
    ["uncaught exception: exit 1, traceback on stderr", "def f():\n    1 / 0\n\nf()"],
    ["syntax error", "x = ("],
    ["sys.exit(3)", "import sys\nprint('before')\nsys.exit(3)"],
    ["sys.exit with a message", "import sys\nsys.exit('bye')"],
    ["sys.exit(None), sys.exit(257)", "import sys\nsys.exit(257 if sys.argv else None)"],
    [
      "__del__ of the program's objects at exit",
      "class A:\n    def __del__(self):\n        print('finalized')\n\na = A()",
    ],
    [
      "exceptions in atexit handlers are shown and the exit status stays",
      "import atexit\natexit.register(lambda: 1 / 0)\nprint('main')",
    ],
    ["death by signal: 128 + n", "import os, signal\nos.kill(os.getpid(), signal.SIGTERM)"],
    ["KeyboardInterrupt", "raise KeyboardInterrupt"],
    ["unflushed output at exit", "import sys\nsys.stdout.write('no newline')\nsys.stderr.write('err')"],
    ["atexit handlers run", "import atexit\natexit.register(print, 'at exit')\nprint('main')"],
    [
      "non-daemon threads are joined",
      "import threading, time\nthreading.Thread(target=lambda: (time.sleep(0.2), print('late'))).start()\nprint('main')",
    ],
    ["__main__ globals", "print(list(globals()), __name__, __file__, __spec__, __doc__)"],
    ["argv, path, flags", "import sys\nprint(sys.argv, sys.orig_argv[1:], sys.path, sys.flags)"],
    ["loaded modules", "import sys\nprint(sorted(sys.modules))"],
    ["stdin is at end of file", "import sys\nprint(repr(sys.stdin.read()))"],
    ["environment and cwd", "import os\nprint(sorted(os.environ.items()), os.getcwd())"],
    ["open descriptors", "import os\nprint(sorted(os.listdir('/proc/self/fd')))"],
    ["its own session and group", "import os\nprint(os.getsid(0) == os.getpid() == os.getpgid(0))"],
    ["signal handlers", "import signal\nprint([signal.getsignal(s) for s in (2, 13, 15, 17)])"],
    [
      "a subprocess writing to the inherited stdout",
      "import subprocess\nprint('a', flush=True)\nsubprocess.run(['echo', 'b'])\nprint('c')",
    ],
    [
      "multiprocessing (forks of the run, atexit clean-up)",
      "from multiprocessing import Pool\nif __name__ == '__main__':\n    with Pool(2) as pool:\n        print(pool.map(abs, [-1, -2, -3]))",
    ],
    [
      "asyncio",
      "import asyncio\nasync def main():\n    await asyncio.sleep(0.01)\n    return 7\nprint(asyncio.run(main()))",
    ],
    [
      "ctypes, which the zygote uses in part",
      "import ctypes\nprint(ctypes.sizeof(ctypes.c_long), ctypes.CDLL(None).getpid() > 0)",
    ],
    ["a coding cookie and non-ASCII source", "# -*- coding: utf-8 -*-\nprint(len('\u00e9\u4e2d'), '\u00e9')"],
  ])("%s", async (_name, code) => {
    expect(observed(await forked(code))).toEqual(observed(await fresh(code)));
  });

  test("a module the zygote loaded for itself is shadowed by the user's own file, as in a fresh python", async () => {
    writeFileSync(join(workspace, "ctypes.py"), "VALUE = 'mine'\n");
    const code = "import ctypes\nprint(ctypes.VALUE)";
    expect(observed(await forked(code))).toEqual({ exit_code: 0, stdout: "mine\n", stderr: "" });
    expect(observed(await fresh(code))).toEqual(observed(await forked(code)));
    rmSync(join(workspace, "ctypes.py"));
  });

  test("a file the program left open is flushed at exit", async () => {
    const code = "f = open('unclosed.txt', 'w')\nf.write('data')";
    expect((await forked(code)).exit_code).toBe(0);
    expect(readFileSync(join(workspace, "unclosed.txt"), "utf8")).toBe("data");
  });

  test("the request's env reaches the run and does not leak into the next one", async () => {
    const code =
      "import os, subprocess\nprint(os.environ.get('GREETING'), subprocess.check_output(['sh', '-c', 'echo $GREETING']).decode().strip())";
    expect((await forked(code, { GREETING: "hello" })).stdout).toBe("hello hello\n");
    expect((await forked(code)).stdout).toBe("None \n");
  });

  test("random, uuid and the urandom-seeded state differ from run to run", async () => {
    const code = "import random, uuid\nprint(random.random(), random.getrandbits(64), uuid.uuid4())";
    const runs = await Promise.all([forked(code), forked(code), forked(code)]);
    expect(runs.map((r) => r.exit_code)).toEqual([0, 0, 0]);
    expect(new Set(runs.map((r) => r.stdout)).size).toBe(3);
  });

  test("a request setting a variable python reads at start is left to a fresh interpreter", async () => {
    expect(await server.launch("pass", { PYTHONHASHSEED: "0" })).toBeUndefined();
    expect(await server.launch("pass", { LC_ALL: "C" })).toBeUndefined();
  });
});

describe("process hygiene", () => {
  test("a timeout kills the forked run and the children it started", async () => {
    const code =
      "import subprocess, time\np = subprocess.Popen(['sleep', '1000'])\nprint(p.pid, flush=True)\ntime.sleep(1000)";
    const result = await forked(code, undefined, 500);
    expect(result.timed_out).toBe(true);
    expect(result.exit_code).toBe(128 + 15);
    expect(isRunning(Number(result.stdout.trim()))).toBe(false);
  });

  test("background processes a finished forked run left behind die with it", async () => {
    const code = "import subprocess\nprint(subprocess.Popen(['sleep', '1000'], start_new_session=False).pid)";
    const result = await forked(code);
    const pid = Number(result.stdout.trim());
    await waitUntil(() => !isRunning(pid), 2000, "the background process to be killed");
  });
});

describe("the zygote is out of a run's reach", () => {
  test("a run that kills its parent finishes; the next runs work and a new zygote serves them", async () => {
    const zygote = server.zygotePid as number;
    const killer = await forked(
      "import os, time\nos.kill(os.getppid(), 9)\ntime.sleep(0.1)\nprint('still here')",
    );
    expect(killer.stdout).toBe("still here\n");
    expect(isRunning(zygote)).toBe(false);
    // Served by a spawned interpreter or the new zygote, whichever is there: it works either way.
    const next = await server.launch("print('next')", undefined);
    const result = next === undefined ? await fresh("print('next')") : await drive(next);
    expect(observed(result)).toEqual({ exit_code: 0, stdout: "next\n", stderr: "" });
    expect(await server.ready(10_000)).toBe(true);
    expect(server.zygotePid).not.toBe(zygote);
    expect((await forked("print('forked again')")).stdout).toBe("forked again\n");
  });

  test("a run that walks /proc and kills every other python leaves the next run working", async () => {
    const code = [
      "import os",
      "for pid in filter(str.isdigit, os.listdir('/proc')):",
      "    try:",
      "        cmd = open(f'/proc/{pid}/cmdline', 'rb').read()",
      "    except OSError:",
      "        continue",
      "    if b'_pristine' in cmd and int(pid) != os.getpid():",
      "        os.kill(int(pid), 9)",
      "        print('killed')",
    ].join("\n");
    expect((await forked(code)).stdout).toContain("killed");
    expect(await server.ready(10_000)).toBe(true);
    expect((await forked("print(1 + 1)")).stdout).toBe("2\n");
  });

  test("files a run leaves in the workspace named like the zygote's own modules do not reach a new zygote", async () => {
    for (const name of ["_ctypes", "select", "_socket", "_signal", "atexit", "gc"]) {
      writeFileSync(join(workspace, `${name}.py`), "raise SystemExit('shadowed')\n");
    }
    try {
      const zygote = server.zygotePid as number;
      globalThis.process.kill(zygote, "SIGKILL");
      await waitUntil(
        () => server.zygotePid !== zygote && server.zygotePid !== undefined,
        10_000,
        "a new zygote",
      );
      expect(observed(await forked("print('fine')"))).toEqual({ exit_code: 0, stdout: "fine\n", stderr: "" });
    } finally {
      for (const name of ["_ctypes", "select", "_socket", "_signal", "atexit", "gc"])
        rmSync(join(workspace, `${name}.py`));
    }
  });

  test("a run holds none of the zygote's descriptors (nothing to talk to it through)", async () => {
    const code =
      "import os\nprint([os.readlink(f'/proc/self/fd/{fd}') for fd in sorted(os.listdir('/proc/self/fd'))[:3]])";
    const [stdin, stdout, stderr] = JSON.parse((await forked(code)).stdout.replaceAll("'", '"')) as string[];
    expect(stdin).toBe("/dev/null");
    expect(stdout).toMatch(/^pipe:/);
    expect(stderr).toMatch(/^pipe:/);
    expect((await forked("import os\nprint(len(os.listdir('/proc/self/fd')))")).stdout).toBe("4\n");
  });

  test("a zygote killed from outside is replaced; runs in flight still deliver their output", async () => {
    const zygote = server.zygotePid as number;
    const slow = server.launch("import time\ntime.sleep(0.5)\nprint('done')", undefined);
    const process = await slow;
    if (process === undefined) throw new Error("not served");
    const inFlight = drive(process);
    globalThis.process.kill(zygote, "SIGKILL");
    expect((await inFlight).stdout).toBe("done\n");
    expect(await server.ready(10_000)).toBe(true);
    expect(server.zygotePid).not.toBe(zygote);
    expect((await forked("print('back')")).stdout).toBe("back\n");
  });
});

describe("korokd's one-shot python path", () => {
  const parentOfRun = async (flags: Record<string, string>) => {
    const korokd = await startTestKorokd(flags);
    try {
      const res = await korokd.call("/api/execute", {
        language: "python",
        code: "import os\nprint(os.getppid())",
      });
      const body = (await res.json()) as { exit_code: number; stdout: string };
      expect(body.exit_code).toBe(0);
      return Number(body.stdout.trim());
    } finally {
      await korokd.stop();
    }
  };

  test("runs are forked from the zygote by default, and spawned by korokd with --fork-server=false", async () => {
    expect(await parentOfRun({})).not.toBe(globalThis.process.pid);
    expect(await parentOfRun({ "fork-server": "false" })).toBe(globalThis.process.pid);
  });
});
