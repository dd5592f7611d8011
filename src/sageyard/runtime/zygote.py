"""A warmed interpreter: a warm pool's host, ready in its sandbox to run the next job's script.

A cold host pays for its sandbox (bwrap), a start-up shim and the script's own interpreter
before the first line of the script runs. A warm pool (``jobs/warm_pools.py``) keeps, per
host, a *zygote* instead: a Python started once in a sandbox like any host's, that never
runs job code itself. For each job it forks; the child takes the job's environment, working
folder, arguments and log (the log's descriptor comes over the control socket), and runs
the script (``python script.py`` through :func:`runpy.run_path`, ``python -m module``
through :func:`runpy.run_module`, anything else through ``exec``). The zygote waits for it,
ends every process the job left (it is their subreaper), empties ``/tmp`` and ``/dev/shm``,
and reports the child's wait status. Before its first job it imports the standard
library's modules that scripts usually import (``argparse``, ``logging``, ...), so each
fork finds them loaded: a script that imports them starts in milliseconds, not tens.

Nothing of one job reaches the next: each job is a fresh fork of an interpreter that ran no
job code; its files live in the pool's host folder, which the executor empties into the
job's own folder after it (``executors/local.py``); its processes, temporary files and
shared memory end with it. The zygote ignores the stop signals a stop sends to the host's
process group (the job's process gets them); a SIGKILL of the group ends the zygote too,
and the executor starts a cold host next time.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import signal
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

#: The zygote: ``python -c ZYGOTE <control fd>``, inside the host's sandbox.
ZYGOTE = r"""
import ctypes, json, os, runpy, signal, socket, sys, traceback
# What a training script usually imports from the standard library (and runpy's own
# pkgutil), imported once here, so that each job's fork finds them loaded. None starts a
# thread; random reseeds itself in a forked child.
for module in (
    "argparse", "collections", "contextlib", "copy", "csv", "dataclasses", "datetime",
    "functools", "glob", "io", "itertools", "logging", "math", "pathlib", "pickle",
    "pkgutil", "random", "re", "shutil", "struct", "subprocess", "tempfile", "typing",
):
    __import__(module)
STOPS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1)
control = socket.socket(fileno=int(sys.argv[1]))
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: the jobs' daemons come here
for number in STOPS:
    signal.signal(number, signal.SIG_IGN)
base_path = [p for p in sys.path if p]

def children():
    found = []
    for task in os.listdir("/proc/self/task"):
        with open(f"/proc/self/task/{task}/children") as f:
            found += [int(pid) for pid in f.read().split()]
    return found

def empty(folder, device=None):
    # what a job left in the sandbox's own tmpfs; never into a mount (the job root, a
    # channel, this interpreter's folders may be bound below /tmp)
    try:
        device = device if device is not None else os.lstat(folder).st_dev
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        try:
            if entry.stat(follow_symlinks=False).st_dev != device or os.path.ismount(entry.path):
                continue
            if entry.is_dir(follow_symlinks=False):
                empty(entry.path, device)
                os.rmdir(entry.path)
            else:
                os.unlink(entry.path)
        except OSError:
            pass

def run(job, log):
    for number in STOPS:
        signal.signal(number, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOPS)  # one sent since the fork comes now
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    control.close()
    os.chdir(job["cwd"])
    os.environ.clear()
    os.environ.update(job["env"])
    argv = job["argv"]
    if argv[0] != sys.executable or len(argv) < 2 or (argv[1].startswith("-") and argv[1] != "-m"):
        os.execvpe(argv[0], argv, job["env"])
    extra = [p for p in job["env"].get("PYTHONPATH", "").split(os.pathsep) if p]
    code = 0
    try:
        if argv[1] == "-m":
            sys.argv = [argv[2], *argv[3:]]
            sys.path[:] = [os.getcwd(), *extra, *base_path]
            runpy.run_module(argv[2], run_name="__main__", alter_sys=True)
        else:
            sys.argv = argv[1:]
            sys.path[:] = [os.path.dirname(os.path.abspath(argv[1])), *extra, *base_path]
            runpy.run_path(argv[1], run_name="__main__")
    except SystemExit as stop:
        if stop.code is None:
            code = 0
        elif isinstance(stop.code, int):
            code = stop.code
        else:
            print(stop.code, file=sys.stderr)
            code = 1
    except BaseException:
        traceback.print_exc()
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    os._exit(code & 0xFF)

control.sendall(b"ready\n")
while True:
    message, fds, _, _ = socket.recv_fds(control, 1 << 22, 1)
    if not message:
        os._exit(0)
    job = json.loads(message)
    signal.pthread_sigmask(signal.SIG_BLOCK, STOPS)  # kept pending for the child, not lost
    pid = os.fork()
    if pid == 0:
        try:
            run(job, fds[0])
        finally:
            os._exit(1)
    control.sendall(b"forked\n")  # from now on a stop sent to the group reaches the job
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOPS)  # the zygote's own copy: ignored
    os.close(fds[0])
    status = None
    while status is None:
        ended, code = os.waitpid(-1, 0)
        if ended == pid:
            status = code
    while True:  # what the job left: ended, as a host's reaper does
        for child in children():
            try:
                os.kill(child, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            break
    empty("/tmp")
    empty("/dev/shm")
    control.sendall(json.dumps({"status": status}).encode() + b"\n")
"""


class Zygote:
    """The supervisor's side of one warmed interpreter: start it, hand it jobs, hear how
    each ended.

    ``spawn(argv, keep_fd)`` starts ``argv`` as a host process in its sandbox (the
    executor's own spawn, so the zygote gets exactly a host's sandbox) with ``keep_fd``
    inherited; it returns the host's first process. ``root``: the pool's folder the sandbox
    shows as the job root (and at ``/opt/ml``); ``writable``: the shared folders it shows.
    """

    def __init__(
        self,
        root: Path,
        python: str,
        spawn: Callable[[list[str], int], subprocess.Popen[bytes]],
        writable: tuple[Path, ...] = (),
    ) -> None:
        self.root, self.writable = root, writable
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        child_end = fcntl.fcntl(theirs.fileno(), fcntl.F_DUPFD_CLOEXEC, 10)  # above stdio, 3
        theirs.close()
        try:
            self.process = spawn([python, "-c", ZYGOTE, str(child_end)], child_end)
        finally:
            os.close(child_end)
        self._control = ours
        self._buffer = b""
        self.alive = self._read_line(timeout=30.0) == b"ready"

    def run(self, argv: list[str], env: dict[str, str], cwd: Path, log: Path) -> None:
        """Start a job's command in the zygote (its output appended to ``log``); return
        once its process exists, so that a stop sent to the host's group reaches it.

        Raises OSError when the zygote does not answer (it is then no longer used)."""
        request = json.dumps({"argv": argv, "env": env, "cwd": str(cwd)}).encode()
        with open(log, "ab", buffering=0) as out:
            socket.send_fds(self._control, [request], [out.fileno()])
        if self._read_line(timeout=30.0) != b"forked":
            self.alive = False
            raise OSError("the warmed interpreter did not start the job")

    def fileno(self) -> int:
        """The control socket (readable when the zygote reports)."""
        return self._control.fileno()

    def poll(self) -> int | None:
        """The job's exit code (negative: killed by that signal) once it ended, else None."""
        line = self._read_line(timeout=0.0)
        if line is None:
            return None
        if not line:  # the zygote itself ended (a SIGKILL of the host's group)
            self.alive = False
            code = self.process.wait()
            return code if code < 0 else -signal.SIGKILL
        return os.waitstatus_to_exitcode(int(json.loads(line)["status"]))

    def _read_line(self, timeout: float) -> bytes | None:
        """The next line from the zygote; ``b""`` when it closed; ``None``: none yet."""
        while b"\n" not in self._buffer:
            readable, _, _ = select.select([self._control], [], [], timeout)
            if not readable:
                return None
            data = self._control.recv(65536)
            if not data:
                return b""
            self._buffer += data
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def close(self) -> None:
        """End the zygote and its sandbox."""
        self.alive = False
        with contextlib.suppress(OSError):
            self._control.close()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def move_contents(source: Path, target: Path) -> None:
    """Move everything in ``source`` into ``target`` (created), leaving ``source`` empty:
    a warm host's folder handed to the job that used it (a rename: same file system)."""
    target.mkdir(parents=True, exist_ok=True)
    for entry in list(source.iterdir()):
        destination = target / entry.name
        if destination.is_dir() and not destination.is_symlink():
            move_contents(entry, destination)
            entry.rmdir()
        else:
            os.replace(entry, destination)
