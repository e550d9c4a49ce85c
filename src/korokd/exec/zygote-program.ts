/**
 * The python fork server ("zygote"): one interpreter boots once, then forks one child per one-shot run,
 * so a run costs a fork (~1 ms of CPU) instead of an interpreter boot (~40 ms). Started as
 * `python3 -c ZYGOTE_PROGRAM <workspace>` with fd 0 = commands from korokd, fd 1 = events to korokd, fd 3 = a unix
 * socket over which the read ends of each run's stdout/stderr pipes go to korokd (SCM_RIGHTS).
 *
 * Protocol (ASCII lines, korokd is the only peer: the pipes are inherited from it and nobody else):
 *   korokd → zygote  `run <id> <env bytes> <code bytes>\n` then the env (`K=V\0`…) then the code
 *   zygote → korokd  `ready\n` once booted; `forked <id> <pid>\n` after the run's pipes went over fd 3
 *                    (payload `<id>`); `exit <pid> <code>\n` when reaped (128 + n for a signal, as a
 *                    shell reports it); `failed <id> <errno>\n` when fork() failed.
 *
 * A child starts the program only after the zygote has reported it (`forked`) or died: a program that
 * kills its parent at once cannot take the report down with it.
 *
 * The zygote only ever runs this file: no user code executes in it, so each child starts from the state
 * of a freshly booted `python3 -`. The child then undoes what the zygote did on top of a fresh boot:
 * modules the zygote imported leave `sys.modules` (a user's own `json.py` in the workspace still wins),
 * `__main__` gets exactly the globals `python3 -` has, `sys.argv` is `['-']`, signal handlers are the
 * defaults, and the environment is the run's. The child makes itself its own session (korokd kills the
 * run by process group), takes fd 0 from /dev/null and fd 1/2 from the run's pipes, and closes every
 * other descriptor before the zygote reports it: a run holds nothing of the zygote's.
 *
 * The zygote is non-dumpable (prctl), so a run (same uid, not root) cannot open its pipes through
 * /proc/<pid>/fd; a child becomes dumpable again once it dropped the zygote's descriptors.
 *
 * A run ends as interpreter shutdown would end it, as far as a program can tell (threads joined, atexit,
 * output flushed, its own objects finalized), but without tearing down what it inherited from the
 * zygote, and the zygote's objects are frozen out of the child's garbage collections (gc.freeze): both
 * would write to every page shared with the zygote and copy it, which cost more than the rest of a run.
 *
 * Known difference from a fresh interpreter: `hash()` of str/bytes uses the zygote's seed, the same in
 * every run it serves (the seed cannot change after boot; a request setting PYTHONHASHSEED runs cold).
 * `random`, `uuid`, `secrets` and `tempfile` are not loaded by the zygote, so each run seeds them anew.
 */
export const ZYGOTE_PROGRAM = String.raw`_pristine = dict(globals())
_boot_modules = frozenset(__import__("sys").modules)


def _serve():
    import sys
    # sys.path[0] is the workspace, where a run may leave files named like the modules imported here.
    path0 = sys.path.pop(0)
    import atexit, gc, os, select, _ctypes, _signal, _socket
    sys.path.insert(0, path0)
    # Paths every run takes, taken once here: what they allocate and cache on first use is then shared
    # with every child instead of being built (and its pages faulted in) by each one.
    exec(compile("def f(a):\n    return [str(a), repr(a), f'{a}']\nf(2)", "<warm-up>", "exec"), {})
    workspace = sys.argv[1]
    # prctl through _ctypes alone: the ctypes package would cost a third of a MiB more in the zygote.
    class Int(_ctypes._SimpleCData):
        _type_ = "i"

    class Function(_ctypes.CFuncPtr):
        _flags_ = _ctypes.FUNCFLAG_CDECL
        _restype_ = Int

    class Libc:
        _handle = _ctypes.dlopen(None, 0)

    prctl = Function(("prctl", Libc()))
    prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0: /proc/<zygote>/fd is closed to runs
    fds = _socket.socket(fileno=3)
    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    _signal.set_wakeup_fd(wake_w)
    _signal.signal(_signal.SIGCHLD, lambda *_: None)
    devnull = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
    max_fd = os.sysconf("SC_OPEN_MAX")

    def event(line):
        os.write(1, line.encode() + b"\n")

    def reap():
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            code = os.waitstatus_to_exitcode(status)
            event("exit %d %d" % (pid, code if code >= 0 else 128 - code))

    def fork(run_id, env, code):
        out_r, out_w = os.pipe2(os.O_CLOEXEC)
        err_r, err_w = os.pipe2(os.O_CLOEXEC)
        sync_r, sync_w = os.pipe2(os.O_CLOEXEC)
        go_r, go_w = os.pipe2(os.O_CLOEXEC)
        # Objects the zygote made stay out of the children's collections: scanning them would copy
        # every page they sit on into each child.
        gc.freeze()
        try:
            pid = os.fork()
        except OSError as err:
            for fd in (out_r, out_w, err_r, err_w, sync_r, sync_w, go_r, go_w):
                os.close(fd)
            event("failed %d %d" % (run_id, err.errno))
            return None
        if pid == 0:
            os.setsid()
            os.dup2(devnull, 0)
            os.dup2(out_w, 1)
            os.dup2(err_w, 2)
            # Also closes sync_w: the zygote learns that the child is in its own session.
            os.closerange(3, go_r)
            os.closerange(go_r + 1, max_fd)
            _signal.set_wakeup_fd(-1)
            _signal.signal(_signal.SIGCHLD, _signal.SIG_DFL)
            # The program starts only once the zygote has reported the run to korokd (the go byte), or
            # died (end of file): a program that kills its parent at once cannot take the report down with
            # it. A zygote killed from outside right after its report leaves the run to go on as before.
            os.read(go_r, 1)
            os.close(go_r)
            prctl(4, 1, 0, 0, 0)
            # Straight into the run, leaving the zygote's frames be: unwinding them frees its objects,
            # which writes to (and copies) the pages they share with the zygote.
            _run((env, code, workspace, atexit, gc), _pristine, _boot_modules)
        for fd in (out_w, err_w, sync_w, go_r):
            os.close(fd)
        os.read(sync_r, 1)
        os.close(sync_r)
        fds.sendmsg([b"%d" % run_id], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, out_r.to_bytes(4, sys.byteorder) + err_r.to_bytes(4, sys.byteorder))])
        os.close(out_r)
        os.close(err_r)
        event("forked %d %d" % (run_id, pid))
        os.write(go_w, b"g")
        os.close(go_w)
        return None

    def commands(buf):
        while True:
            end = buf.find(b"\n")
            if end < 0:
                return
            word, run_id, env_len, code_len = bytes(buf[:end]).split(b" ")
            if word != b"run":
                raise ValueError("unknown command %r" % word)
            start, env_len, code_len = end + 1, int(env_len), int(code_len)
            if len(buf) < start + env_len + code_len:
                return
            env = bytes(buf[start:start + env_len])
            code = bytes(buf[start + env_len:start + env_len + code_len])
            del buf[:start + env_len + code_len]
            yield int(run_id), env, code

    poll = select.poll()
    poll.register(0, select.POLLIN)
    poll.register(wake_r, select.POLLIN)
    buf = bytearray()
    event("ready")
    while True:
        for fd, _ in poll.poll():
            if fd == wake_r:
                while True:
                    try:
                        os.read(wake_r, 512)
                    except BlockingIOError:
                        break
                reap()
                continue
            chunk = os.read(0, 1 << 20)
            if not chunk:
                os._exit(0)  # korokd closed the channel
            buf += chunk
            for run_id, env, code in commands(buf):
                fork(run_id, env, code)


def _run(job, pristine, boot_modules):
    import os, sys
    env, code, workspace, atexit, gc = job
    finish = _finish  # __main__'s globals are about to become the program's
    os.chdir(workspace)
    # Held until the end: freeing the zygote's modules would write to every page they sit on.
    unloaded = [sys.modules.pop(m) for m in list(sys.modules) if m not in boot_modules]
    wanted = dict(entry.partition(b"=")[::2] for entry in env.split(b"\0") if entry)
    for key in [k for k in os.environb if k not in wanted]:
        del os.environb[key]
    for key, value in wanted.items():
        if os.environb.get(key) != value:
            os.environb[key] = value
    sys.argv[:] = ["-"]
    sys.orig_argv[:] = [sys.orig_argv[0], "-"]
    _user_site(sys, os)
    # Files appear in the workspace between runs; a listing cached in the same mtime tick would miss one.
    finder = sys.path_importer_cache.get(workspace)
    if finder is not None:
        finder.invalidate_caches()
    main = sys.modules["__main__"].__dict__
    main.clear()
    main.update(pristine)
    main["__file__"] = "<stdin>"
    main["__cached__"] = None
    try:
        program = compile(code, "<stdin>", "exec", dont_inherit=True)
    except BaseException as err:
        # As python3 - shows a program that does not compile: no traceback, only the error.
        err.__traceback__ = None
        sys.excepthook(type(err), err, None)
        finish(sys, os, main, 1, atexit, gc)
    try:
        exec(program, main)
        status = 0
    except SystemExit as err:
        status = err.code
        if status is None:
            status = 0
        elif not isinstance(status, int):
            print(status, file=sys.stderr)
            status = 1
    except BaseException as err:
        # The display uses the exception's own traceback: drop this function's frame from it.
        err.__traceback__ = err.__traceback__.tb_next
        sys.excepthook(type(err), err, err.__traceback__)
        status = 130 if isinstance(err, KeyboardInterrupt) else 1
    finish(sys, os, main, status, atexit, gc)


def _finish(sys, os, main, status, atexit, gc):
    # What interpreter shutdown does that a run can see, in its order: join non-daemon threads, run
    # atexit, flush, finalize the program's objects (their __del__, unclosed files' buffers). Not the
    # teardown of everything inherited from the zygote: that writes to every shared page (copy-on-
    # write) and cost ~10x the CPU of the rest of a short run. Runs only after __main__ was cleared, so
    # it names nothing global.
    def flush():
        ok = True
        for stream in (sys.stdout, sys.stderr):
            try:
                if stream is not None and not stream.closed:
                    stream.flush()
            except BaseException:
                ok = False
        return ok

    threading = sys.modules.get("threading")
    if threading is not None:
        try:
            threading._shutdown()
        except BaseException as err:
            sys.excepthook(type(err), err, err.__traceback__)
    atexit._run_exitfuncs()
    flushed = flush()
    main.clear()
    gc.collect()
    flushed = flush() and flushed
    os._exit(120 if status == 0 and not flushed else status & 0xFF)


def _user_site(sys, os):
    # A fresh interpreter adds ~/.local/lib/pythonX.Y/site-packages when it exists at start: a
    # pip install --user by an earlier run must be seen, as it would be by a new python3.
    site = sys.modules.get("site")
    if site is None or not site.ENABLE_USER_SITE:
        return
    path = site.getusersitepackages()
    if path in sys.path or not os.path.isdir(path):
        return
    before = len(sys.path)
    site.addsitedir(path)
    added = sys.path[before:]
    del sys.path[before:]
    system = [i for i, p in enumerate(sys.path) if p in site.getsitepackages()]
    at = system[0] if system else len(sys.path)
    sys.path[at:at] = added


_serve()
`;
