"""Starting supervisors from a caller with threads: through one spawned ForkServer.

The caller here is made to count as threaded (``_single_threaded`` patched), so each job's
supervisor is forked by the caller's spawned server, as in a notebook or a script that
imported numpy. The jobs are real: they run and complete.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sageyard.core.settings import Settings
from sageyard.jobs import launch
from sageyard.jobs.service import TrainingJobService


@pytest.fixture
def threaded(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(launch, "_single_threaded", lambda: False)
    yield
    if launch._SERVER is not None:
        launch._SERVER.close()
        launch._SERVER = None


def run_job(settings: Settings, request: dict[str, Any], name: str) -> str:
    """Create the job through the real launcher and wait for its end; its status."""
    service = TrainingJobService(settings)
    service.create_training_job({**request, "TrainingJobName": name})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = service.describe(name)["TrainingJobStatus"]
        if status not in ("InProgress", "Stopping"):
            return str(status)
        time.sleep(0.05)
    raise AssertionError(f"{name} did not end in 60 s")


def server_pid() -> int:
    assert launch._SERVER is not None and launch._SERVER.pid is not None
    return launch._SERVER.pid


def gone(pid: int, within: float = 10.0) -> bool:
    """Whether ``pid`` ends within ``within`` seconds (a zombie counts as ended)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        launch._reap()
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.usefixtures("threaded")
def test_one_server_starts_every_supervisor_of_a_threaded_caller(
    settings: Settings, request_: dict[str, Any]
) -> None:
    assert run_job(settings, request_, "first") == "Completed"
    pid = server_pid()
    assert run_job(settings, request_, "second") == "Completed"
    assert server_pid() == pid  # the same server forked the second supervisor
    launch._SERVER.close()  # type: ignore[union-attr]
    launch._SERVER = None
    assert gone(pid)  # its input closed: it ends


@pytest.mark.usefixtures("threaded")
def test_an_idle_server_is_replaced_before_it_leaves(
    settings: Settings, request_: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_job(settings, request_, "first") == "Completed"
    old = server_pid()
    monkeypatch.setattr(launch, "IDLE_SECONDS", 0.0)  # the caller's side: too old to use
    assert run_job(settings, request_, "second") == "Completed"
    assert server_pid() != old
    monkeypatch.undo()


@pytest.mark.usefixtures("threaded")
def test_a_killed_server_is_replaced(settings: Settings, request_: dict[str, Any]) -> None:
    assert run_job(settings, request_, "first") == "Completed"
    old = server_pid()
    os.kill(old, signal.SIGKILL)
    assert gone(old)
    assert run_job(settings, request_, "second") == "Completed"
    assert server_pid() != old


@pytest.mark.usefixtures("threaded")
def test_a_request_a_stuck_server_does_not_take_goes_to_a_new_one(
    settings: Settings, request_: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_job(settings, request_, "first") == "Completed"
    old = server_pid()
    os.kill(old, signal.SIGSTOP)  # alive, but it reads nothing
    monkeypatch.setattr(launch.SpawnedForkServer, "ACK_SECONDS", 0.5)
    assert run_job(settings, request_, "second") == "Completed"
    assert server_pid() != old
    assert gone(old)  # killed, so it cannot start the second job's supervisor late


def test_a_server_leaves_when_idle(tmp_path: Path) -> None:
    server = subprocess.Popen(
        [sys.executable, "-c", "from sageyard.jobs.launch import serve; serve(0.2)"],
        stdin=subprocess.PIPE,
    )
    try:  # its input stays open: it leaves because it is idle
        assert server.wait(timeout=30) == 0  # it imported, warmed up, waited 0.2 s and left
    finally:
        assert server.stdin is not None
        server.stdin.close()


def test_a_server_ends_with_its_caller(sageyard_home: Path, tmp_path: Path) -> None:
    caller = tmp_path / "caller.py"
    caller.write_text(
        textwrap.dedent(
            """
            from sageyard.jobs import launch
            server = launch.SpawnedForkServer()
            print(server.pid, flush=True)
            """
        )
    )
    out = subprocess.run([sys.executable, str(caller)], capture_output=True, text=True, check=True)
    assert gone(int(out.stdout.strip()))


CLUSTER_ENV = {
    "SAGEYARD_EXECUTOR": "ray",
    "SAGEYARD_STORE_URL": "postgresql+psycopg://u@127.0.0.1:1/db",
    "SAGEYARD_S3_ENDPOINT_URL": "http://127.0.0.1:1",
}


def test_a_fork_server_readies_what_its_supervisors_will_import(
    monkeypatch: pytest.MonkeyPatch, sageyard_home: Path
) -> None:
    local = launch.warm_imports(Settings.from_env())
    assert local == ["optuna", "sageyard.executors.local"]
    for name, value in CLUSTER_ENV.items():
        monkeypatch.setenv(name, value)
    trials = launch.warm_imports(Settings.from_env(), tuning=False)  # a tuning job's server
    assert "optuna" not in trials
    assert {*launch.RAY_WARM_IMPORTS, "psycopg", "sageyard.storage.s3:preload"} <= {*trials}


def test_the_warm_ups_leave_a_fork_server_single_threaded(sageyard_home: Path) -> None:
    """It forks every supervisor: a thread started by a warm-up would make that unsafe."""
    code = textwrap.dedent(
        """
        import os
        from sageyard.core.settings import Settings
        from sageyard.jobs import launch
        names = launch.warm_imports(Settings.from_env())
        for name in names:
            launch._warm_import(name)
        print(len(names), len(os.listdir("/proc/self/task")))
        """
    )
    env = {**os.environ, **CLUSTER_ENV, "SAGEYARD_HOME": str(sageyard_home)}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    warmed, threads = done.stdout.split()
    assert int(warmed) >= 7 and threads == "1", done.stderr


def test_a_spawned_server_in_an_environment_sageyard_cannot_read_still_serves(
    monkeypatch: pytest.MonkeyPatch, sageyard_home: Path
) -> None:
    """Its requests bring their own settings: a bad SAGEYARD_* of its own only means it
    warms what every server does."""
    monkeypatch.setenv("SAGEYARD_EXECUTOR", "bogus")
    assert launch._warm_list(None) == list(launch.WARM_IMPORTS)
