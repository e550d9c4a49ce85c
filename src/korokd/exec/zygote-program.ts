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
    import ctypes, os, select, _signal, _socket
    sys.path.insert(0, path0)
    workspace = sys.argv[1]
    prctl = ctypes.CDLL(None, use_errno=True).prctl
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
        try:
            pid = os.fork()
        except OSError as err:
            for fd in (out_r, out_w, err_r, err_w, sync_r, sync_w):
                os.close(fd)
            event("failed %d %d" % (run_id, err.errno))
            return None
        if pid == 0:
            os.setsid()
            os.dup2(devnull, 0)
            os.dup2(out_w, 1)
            os.dup2(err_w, 2)
            # Also closes sync_w: the zygote learns that the child is in its own session.
            os.closerange(3, max_fd)
            _signal.set_wakeup_fd(-1)
            _signal.signal(_signal.SIGCHLD, _signal.SIG_DFL)
            prctl(4, 1, 0, 0, 0)
            return env, code, workspace
        for fd in (out_w, err_w, sync_w):
            os.close(fd)
        os.read(sync_r, 1)
        os.close(sync_r)
        fds.sendmsg([b"%d" % run_id], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, out_r.to_bytes(4, sys.byteorder) + err_r.to_bytes(4, sys.byteorder))])
        os.close(out_r)
        os.close(err_r)
        event("forked %d %d" % (run_id, pid))
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
                job = fork(run_id, env, code)
                if job is not None:
                    return job


def _run(job, pristine, boot_modules):
    import os, sys
    env, code, workspace = job
    os.chdir(workspace)
    for name in [m for m in sys.modules if m not in boot_modules]:
        del sys.modules[name]
    os.environ.clear()
    for entry in env.split(b"\0"):
        if entry:
            key, _, value = entry.partition(b"=")
            os.environb[key] = value
    sys.argv[:] = ["-"]
    sys.orig_argv[:] = [sys.orig_argv[0], "-"]
    _user_site(sys, os)
    sys.modules["_frozen_importlib_external"].PathFinder.invalidate_caches()
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
        raise SystemExit(1)
    try:
        exec(program, main)
    except SystemExit:
        raise
    except BaseException as err:
        # The display uses the exception's own traceback: drop this function's frame from it.
        err.__traceback__ = err.__traceback__.tb_next
        sys.excepthook(type(err), err, err.__traceback__)
        raise SystemExit(130 if isinstance(err, KeyboardInterrupt) else 1)


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


_run(_serve(), _pristine, _boot_modules)
`;
