/**
 * The program a Python context runs: a loop that reads one JSON request per line from fd 3, executes
 * the code in `__main__` (so variables, imports and functions persist) and then writes the end marker
 * to stderr and stdout. User code keeps the real fds 1 and 2, so output of subprocesses is captured
 * too. SIGINT raises KeyboardInterrupt only while user code runs; the driver itself ignores it.
 * It defines nothing in `__main__` and hides its own frames from tracebacks.
 */

const DRIVER = String.raw`
def _korokd_driver():
    import json, linecache, os, signal, sys, traceback
    main = sys.modules["__main__"].__dict__
    main.pop("_korokd_driver", None)
    sys.argv = [""]
    control = os.fdopen(3, "rb")
    state = {"running": False}

    def on_sigint(signum, frame):
        if state["running"]:
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, on_sigint)

    def write_all(fd, data):
        while data:
            data = data[os.write(fd, data):]

    def flush():
        for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            try:
                stream.flush()
            except Exception:
                pass

    def report(exc):
        te = traceback.TracebackException(type(exc), exc, exc.__traceback__)
        te.stack = traceback.StackSummary.from_list([f for f in te.stack if f.filename != "<korokd>"])
        sys.stderr.write("".join(te.format()))

    def exit_status(exc):
        if exc.code is None:
            return 0
        if isinstance(exc.code, int):
            return exc.code
        sys.stderr.write(str(exc.code) + "\n")
        return 1

    cell = 0
    while True:
        try:
            line = control.readline()
        except KeyboardInterrupt:
            continue
        if not line:
            return
        request = json.loads(line)
        cell += 1
        name = "<cell-%d>" % cell
        source = request["code"]
        linecache.cache[name] = (len(source), None, source.splitlines(True), name)
        status = 0
        try:
            try:
                compiled = compile(source, name, "exec")
                state["running"] = True
                exec(compiled, main)
            finally:
                state["running"] = False
        except SystemExit as exc:
            status = exit_status(exc)
        except BaseException as exc:
            report(exc)
            status = 130 if isinstance(exc, KeyboardInterrupt) else 1
        flush()
        marker = ("\x1e%s:%03d\x1e" % (request["nonce"], status & 255)).encode()
        write_all(2, marker)
        write_all(1, marker)

_korokd_driver()
`;

/** `python -c BOOT DRIVER`: the boot line compiles the driver under a name tracebacks can hide. */
export function pythonDriverArgv(python: string): string[] {
  return [python, "-c", `exec(compile(__import__("sys").argv.pop(1), "<korokd>", "exec"))`, DRIVER];
}
