"""Starting a job's supervisor, detached from the caller, so ``wait=False`` returns at once.

When the caller is single-threaded (checked on ``/proc/self/task``, which also counts
threads of C libraries), the supervisor is forked: it starts in about a millisecond with
everything already imported. Otherwise — forking a threaded process is unsafe — it is a
fresh ``python -m sageyard.jobs.supervisor`` process. Either way it is the child of
``init`` in a session of its own, and outlives the caller.
"""

from __future__ import annotations

import atexit
import importlib
import logging
import os
import subprocess
import sys
from pathlib import Path

import sageyard.jobs.supervisor  # noqa: F401  imported here so a forked child starts warm
from sageyard.core.settings import Settings
from sageyard.runtime.sandbox import isolation_available
from sageyard.store import close_pooled_connections

logger = logging.getLogger(__name__)


def _single_threaded() -> bool:
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


# What supervises each kind of job, as "module:Class": constructed as
# ``Class(settings, job_name)`` and ``run()``; the module also runs with ``python -m``. A
# name, not an import: tuning sits above jobs and registers its supervisor here by name.
SUPERVISORS = {
    "training": "sageyard.jobs.supervisor:Supervisor",
    "tuning": "sageyard.tuning.supervisor:TuningSupervisor",
}


def launch_supervisor(settings: Settings, job_name: str, log: Path, kind: str = "training") -> None:
    """Start the supervisor of ``job_name``; its own errors go to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    if hasattr(os, "fork") and _single_threaded():
        isolation_available()  # probe once here; every forked supervisor inherits the answer
        _fork(settings, job_name, log, kind)
    else:
        _spawn(settings, job_name, log, kind)


def _run(settings: Settings, job_name: str, kind: str) -> None:
    module, _, name = SUPERVISORS[kind].partition(":")
    getattr(importlib.import_module(module), name)(settings, job_name).run()


def _spawn(settings: Settings, job_name: str, log: Path, kind: str) -> None:
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", SUPERVISORS[kind].partition(":")[0], job_name],
            env={**os.environ, **settings.to_env()},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    _SPAWNED.append(process)  # kept so it is reaped, never garbage-collected while running


def _fork(settings: Settings, job_name: str, log: Path, kind: str) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    _reap()
    close_pooled_connections()  # the child must inherit no open database files
    pid = os.fork()
    if pid:
        _INTERMEDIATES.append(pid)  # it exits at once; reaped on the next launch or at exit
        return
    # Intermediate child: new session, then fork the supervisor and leave.
    try:
        os.setsid()
        if os.fork():
            os._exit(0)
        _detach_stdio(log)
        logging.getLogger().handlers.clear()
        logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
        _run(settings, job_name, kind)
    except BaseException:  # pragma: no cover - the caller never sees this process
        import traceback

        traceback.print_exc()
        os._exit(1)
    os._exit(0)


_INTERMEDIATES: list[int] = []
_SPAWNED: list[subprocess.Popen[bytes]] = []


def _reap() -> None:
    """Collect intermediate children that have exited (no zombies are left behind)."""
    for pid in list(_INTERMEDIATES):
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done:
            _INTERMEDIATES.remove(pid)
    _SPAWNED[:] = [process for process in _SPAWNED if process.poll() is None]


atexit.register(_reap)


def _detach_stdio(log: Path) -> None:
    devnull = os.open(os.devnull, os.O_RDONLY)
    out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(devnull, 0)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(devnull)
    os.close(out)
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115


class ForkServer:
    """A single-threaded child that forks supervisors on request.

    A process that has started threads (numpy's BLAS pool, torch) cannot fork safely, and
    spawning a fresh interpreter per job costs a few hundred milliseconds. A tuning
    supervisor starts a ForkServer before it imports such libraries; every trial's
    supervisor is then forked from it. The server ends when its pipe closes.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._write: int | None = None
        self._pid: int | None = None

    def start(self) -> ForkServer:
        read, write = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        close_pooled_connections()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the server process
            os.close(write)
            try:
                self._serve(read)
            finally:
                os._exit(0)
        os.close(read)
        self._write, self._pid = write, pid
        return self

    def _serve(self, read: int) -> None:
        with os.fdopen(read, "r") as requests:
            for line in requests:
                kind, name, log = line.rstrip("\n").split("\t")
                try:
                    launch_supervisor(self.settings, name, Path(log), kind)
                except Exception:
                    logger.exception("could not start the supervisor of %s", name)

    def launch(self, settings: Settings, job_name: str, log: Path, kind: str = "training") -> None:
        """Ask the server to start a supervisor (same signature as launch_supervisor)."""
        assert self._write is not None, "start() the ForkServer first"
        log.parent.mkdir(parents=True, exist_ok=True)
        os.write(self._write, f"{kind}\t{job_name}\t{log}\n".encode())

    def close(self) -> None:
        if self._write is not None:
            os.close(self._write)
            self._write = None
        if self._pid is not None:
            os.waitpid(self._pid, 0)
            self._pid = None
