"""Starting a job's supervisor, detached from the caller, so ``wait=False`` returns at once.

When the caller is single-threaded (checked on ``/proc/self/task``, which also counts
threads of C libraries), the supervisor is forked: it starts in about a millisecond with
everything already imported. Forking a threaded process is unsafe, so a caller with
threads (numpy's BLAS pool, torch, a notebook) hands the fork to a
:class:`SpawnedForkServer` of its own: a fresh interpreter that imports the supervisors
(and Optuna) once and forks each supervisor on request. Its first supervisor starts as
late as a fresh ``python -m sageyard.jobs.supervisor`` would; the later ones in
milliseconds. Either way a supervisor is the child of ``init`` in a session of its own,
and outlives the caller.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import json
import logging
import os
import select
import signal
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

import sageyard.jobs.supervisor  # noqa: F401  imported here so a forked child starts warm
from sageyard.core.exceptions import SageyardError
from sageyard.core.settings import Settings
from sageyard.runtime.sandbox import isolation_available
from sageyard.store import close_pooled_connections

logger = logging.getLogger(__name__)

#: How long a spawned fork server waits for its next request before it exits. The caller
#: stops using one at half of that, so no request can reach a server that is leaving.
IDLE_SECONDS = 600.0
#: Libraries imported by a spawned fork server once it is idle, so the supervisors that
#: need them start warm (the tuning supervisor's Optuna), with numpy's BLAS held to one
#: thread while they load: a server with threads could no longer fork.
WARM_IMPORTS = ("optuna",)
#: And with ``SAGEYARD_EXECUTOR=ray``: Ray's client (a quarter of a CPU second a
#: supervisor otherwise) and the numpy its serializers import, imported only (no
#: connection, no thread; pyarrow, which they import too, starts a thread).
RAY_WARM_IMPORTS = ("ray", "ray.util.placement_group", "sageyard.executors.ray", "numpy")


def warm_imports(settings: Settings, tuning: bool = True) -> list[str]:
    """What a fork server readies once idle for the supervisors it forks, by the settings
    they run with: modules, and ``module:function`` to call (each without threads).
    ``tuning``: whether it forks tuning supervisors too (Optuna), or only trials'."""
    names = list(WARM_IMPORTS) if tuning else []
    if settings.executor == "ray":
        names += RAY_WARM_IMPORTS
    else:
        names.append("sageyard.executors.local")
    if settings.store_url.startswith("postgresql"):
        names += ["psycopg", "sqlalchemy.dialects.postgresql.psycopg"]  # the store's driver
    if settings.s3_endpoint_url:  # the models an S3 client reads
        names.append("sageyard.storage.s3:preload")
    return names


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
    "evaluation": "sageyard.evaluation.supervisor:EvaluationSupervisor",
}


def launch_supervisor(settings: Settings, job_name: str, log: Path, kind: str = "training") -> None:
    """Start the supervisor of ``job_name``; its own errors go to ``log``.

    With the Ray executor it starts on the cluster's head node (``ray_launch.py``), unless
    this process is a supervisor there already."""
    if settings.executor == "ray":
        from sageyard.jobs.ray_launch import launch_on_cluster, on_cluster

        if not on_cluster():
            launch_on_cluster(settings, SUPERVISORS[kind].partition(":")[0], job_name, log)
            return
    spawn_supervisor(settings, job_name, log, kind)


def spawn_supervisor(settings: Settings, job_name: str, log: Path, kind: str = "training") -> None:
    """Start the supervisor of ``job_name`` on this machine, detached from this process."""
    log.parent.mkdir(parents=True, exist_ok=True)
    if hasattr(os, "fork") and _single_threaded():
        isolation_available()  # probe once here; every forked supervisor inherits the answer
        _fork(settings, job_name, log, kind)
    else:
        _through_server(settings, job_name, log, kind)


def _run(settings: Settings, job_name: str, kind: str) -> None:
    module, _, name = SUPERVISORS[kind].partition(":")
    getattr(importlib.import_module(module), name)(settings, job_name).run()


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
        traceback.print_exc()
        os._exit(1)
    os._exit(0)


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


_INTERMEDIATES: list[int] = []
_SPAWNED: list[subprocess.Popen[bytes]] = []


def _reap() -> None:
    """Collect children that have exited (no zombies are left behind)."""
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
    """A single-threaded process, forked from this one, that forks supervisors on request.

    A tuning supervisor starts one before it imports Optuna (and numpy's threads); every
    trial's supervisor is then forked from it. Requests are JSON lines on the server's
    standard input; it ends when that closes.
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
                _serve(read, self.settings)
            finally:
                os._exit(0)
        os.close(read)
        self._write, self._pid = write, pid
        return self

    def launch(self, settings: Settings, job_name: str, log: Path, kind: str = "training") -> None:
        """Ask the server to start a supervisor (same signature as launch_supervisor)."""
        assert self._write is not None, "start() the ForkServer first"
        log.parent.mkdir(parents=True, exist_ok=True)
        _write_all(self._write, _request(job_name, log, kind))

    def close(self) -> None:
        if self._write is not None:
            os.close(self._write)
            self._write = None
        if self._pid is not None:
            os.waitpid(self._pid, 0)
            self._pid = None


class SpawnedForkServer:
    """A fork server started as a fresh interpreter, for a caller that has threads already.

    It imports the supervisors once (Optuna too, when idle) and forks each supervisor on
    request; each request carries the caller's settings, environment and working folder,
    as a supervisor spawned by the caller would have had them. It acknowledges each
    request as it reads it: a server that died before reading some (killed, say) is
    replaced and they are sent again, never lost. It ends when its caller ends (its
    input closes) or after :data:`IDLE_SECONDS` without a request.
    """

    #: How long a caller waits for a warm server to acknowledge a request.
    ACK_SECONDS = 30.0

    def __init__(self) -> None:
        requests, self._write = os.pipe()  # close on exec: the server gets copies
        self._acks, acks = os.pipe()
        main = f"from sageyard.jobs.launch import serve; serve({IDLE_SECONDS!r})"
        actions = [
            (os.POSIX_SPAWN_DUP2, requests, 0),
            (os.POSIX_SPAWN_DUP2, acks, _ACK_FD),
            (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
            (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
        ]
        try:
            # a session of its own: a Ctrl-C at the caller's terminal does not reach it
            self.pid: int | None = os.posix_spawn(
                sys.executable,
                [sys.executable, "-c", main],
                os.environ,
                file_actions=actions,
                setsid=True,
            )
        finally:
            os.close(requests)
            os.close(acks)
        self.unacknowledged: list[bytes] = []
        self.alive = True  # until its acknowledgements' pipe closes
        self._warm = False  # it has acknowledged a request: it answers in milliseconds
        self._last = time.monotonic()

    def fresh(self) -> bool:
        """Whether it is alive and will stay so for a while (an idle one leaves)."""
        return self._read_acks(0) and time.monotonic() - self._last < IDLE_SECONDS / 2

    def send(self, request: bytes) -> None:
        """Send one request; raises BrokenPipeError if the server is gone (its
        unacknowledged requests, this one included, are then in ``unacknowledged``)."""
        self.unacknowledged.append(request)
        self._last = time.monotonic()
        _write_all(self._write, request)
        deadline = time.monotonic() + self.ACK_SECONDS
        while self._warm and self.unacknowledged:
            if not self._read_acks(max(0.0, deadline - time.monotonic())):
                raise BrokenPipeError("the fork server ended before reading a request")
            if time.monotonic() > deadline:
                assert self.pid is not None
                os.kill(self.pid, signal.SIGKILL)  # stuck: it must not start them later
                self._read_acks(0)  # what it did read before it died
                raise BrokenPipeError("the fork server did not answer")

    def _read_acks(self, timeout: float) -> bool:
        """Take in the acknowledgements that arrive within ``timeout``; False once the
        server is gone."""
        while select.select([self._acks], [], [], timeout)[0]:
            acks = os.read(self._acks, 4096)
            if not acks:
                self.alive = False
                return False
            del self.unacknowledged[: len(acks)]
            self._warm, timeout = True, 0
        return True

    def close(self) -> None:
        """Close its input (it ends) without waiting; it is reaped later."""
        for fd in (self._write, self._acks):
            with contextlib.suppress(OSError):
                os.close(fd)
        if self.pid is not None:
            _INTERMEDIATES.append(self.pid)
            self.pid = None


#: The spawned server's file descriptor for acknowledgements.
_ACK_FD = 3
_SERVER: SpawnedForkServer | None = None
_SERVER_LOCK = threading.Lock()


def _through_server(settings: Settings, job_name: str, log: Path, kind: str) -> None:
    """Have this (threaded) process's spawned fork server start the supervisor."""
    global _SERVER
    with _SERVER_LOCK:
        _reap()
        pending = [_request(job_name, log, kind, {**os.environ, **settings.to_env()})]
        for _ in range(3):
            if _SERVER is None or not _SERVER.fresh():
                if _SERVER is not None:
                    if not _SERVER.alive:  # what it did not acknowledge, it never read
                        pending[:0] = _SERVER.unacknowledged
                    _SERVER.close()
                _SERVER = SpawnedForkServer()
            try:
                while pending:
                    _SERVER.send(pending.pop(0))
                return
            except BrokenPipeError:  # gone: the next one gets what it did not read
                pending[:0] = _SERVER.unacknowledged
                _SERVER.close()
                _SERVER = None
        raise OSError(f"could not start a fork server for the supervisor of {job_name}")


def _request(job_name: str, log: Path, kind: str, env: dict[str, str] | None = None) -> bytes:
    request: dict[str, Any] = {"kind": kind, "name": job_name, "log": str(log)}
    if env is not None:
        request.update(env=env, cwd=os.getcwd())
    return (json.dumps(request) + "\n").encode()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _forget_server() -> None:
    """In a forked child: the parent's server is the parent's (close our copy of its pipes)."""
    global _SERVER, _SERVER_LOCK
    _SERVER_LOCK = threading.Lock()
    if _SERVER is not None:
        _SERVER.pid = None  # not ours to reap
        _SERVER.close()
    _SERVER = None


os.register_at_fork(after_in_child=_forget_server)


def serve(idle: float = IDLE_SECONDS) -> None:
    """The main of a spawned fork server: import every supervisor, then serve stdin."""
    logging.basicConfig(level=logging.WARNING)
    for supervisor in SUPERVISORS.values():
        importlib.import_module(supervisor.partition(":")[0])
    isolation_available()  # probed once; every supervisor forked from here inherits it
    os.register_at_fork(after_in_child=_close_acks)  # no supervisor holds its pipes
    _serve(0, None, idle=idle, acks=_ACK_FD)


def _close_acks() -> None:
    global _ACK_FD
    if _ACK_FD >= 0:
        for fd in (_ACK_FD, 0):
            with contextlib.suppress(OSError):
                os.close(fd)
        _ACK_FD = -1


def _serve(
    read: int, settings: Settings | None, idle: float | None = None, acks: int | None = None
) -> None:
    """Serve requests from ``read`` until it closes, or for ``idle`` seconds without one,
    acknowledging each on ``acks``. A request with an ``env`` brings its own settings (a
    spawned server's requests)."""
    pending = b""
    warm = _warm_list(settings)
    while True:
        if b"\n" not in pending:
            timeout = 0 if warm else idle
            if not select.select([read], [], [], timeout)[0]:
                if not warm:
                    return  # idle for too long
                _warm_import(warm.pop(0))
                continue
            chunk = os.read(read, 65536)
            if not chunk:
                return
            pending += chunk
            continue
        line, _, pending = pending.partition(b"\n")
        if acks is not None:
            os.write(acks, b".")
        request = json.loads(line)
        log = Path(request["log"])
        try:
            if "env" in request:
                os.environ.clear()
                os.environ.update(request["env"])
                with contextlib.suppress(OSError):  # a folder removed since: stay where we are
                    os.chdir(request["cwd"])
            served = settings if settings is not None else Settings.from_env()
            log.parent.mkdir(parents=True, exist_ok=True)
            # a warm import that started threads after all: fresh interpreters, as before
            start = _fork if _single_threaded() else _spawn
            start(served, request["name"], log, request["kind"])
        except Exception:
            with open(log, "a") as out:
                out.write(f"could not start the supervisor of {request['name']}:\n")
                traceback.print_exc(file=out)


def _warm_list(settings: Settings | None) -> list[str]:
    """What this server warms: a tuning supervisor's (``settings`` given) forks only its
    trials' supervisors; a spawned one's requests bring their own settings, so its own
    environment is only a guess (one sageyard cannot read warms what every server does)."""
    if settings is not None:
        return warm_imports(settings, tuning=False)
    try:
        return warm_imports(Settings.from_env())
    except SageyardError:
        return list(WARM_IMPORTS)


def _warm_import(name: str) -> None:
    """Import ``module`` (or call ``module:function``), numpy's BLAS held to one thread."""
    saved = os.environ.get("OPENBLAS_NUM_THREADS")
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    module, _, function = name.partition(":")
    try:
        imported = importlib.import_module(module)
        if function:
            getattr(imported, function)()
    except Exception:  # an optional extra not installed, say: its supervisors meet it
        logger.debug("warming %s", name, exc_info=True)
    finally:
        if saved is None:
            del os.environ["OPENBLAS_NUM_THREADS"]
        else:
            os.environ["OPENBLAS_NUM_THREADS"] = saved
