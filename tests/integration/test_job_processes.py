"""Every process of a job ends with it; stop and max pending time hold in every state."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sageyard.train.configs import SourceCode, StoppingCondition
from tests.integration.conftest import MakeTrainer

DAEMON_SCRIPT = """
    import os, sys, time
    marker = sys.argv[sys.argv.index("--marker") + 1]
    started = f"/tmp/{marker}"  # a sandbox's /tmp is its own: the test finds the daemon by name
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            open(started, "w").close()
            os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(60)", marker])
        os._exit(0)
    os.wait()
    while not os.path.exists(started):
        time.sleep(0.01)
    time.sleep(0.2)  # the exec has happened
    print("daemon started")
    time.sleep(1)  # the test sees the daemon meanwhile
"""


def _processes(matches: Callable[[list[bytes]], bool]) -> list[int]:
    """This machine's processes whose command line (its arguments) ``matches``."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if matches(cmdline.split(b"\0")):
                found.append(int(entry))
    return found


def _processes_named(marker: str) -> list[int]:
    """This machine's processes with ``marker`` as one of their arguments."""
    return _processes(lambda argv: marker.encode() in argv)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie has ended too
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def _wait_for(check: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.time() + seconds
    while not check():
        if time.time() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def _run_daemon_job(make_trainer: MakeTrainer) -> str:
    """Run a job whose script leaves a setsid daemon; the daemon's marker."""
    marker = f"daemon-{os.getpid()}-{time.time_ns()}"
    trainer = make_trainer(DAEMON_SCRIPT, hyperparameters={"marker": marker})
    trainer.train(wait=False)
    job = trainer._latest_training_job
    assert job is not None
    _wait_for(lambda: bool(_processes_named(marker)), seconds=30)  # the daemon runs
    job.wait(logs=False)
    assert job.refresh().training_job_status == "Completed"
    return marker


def test_a_setsid_daemon_does_not_outlive_its_job(make_trainer: MakeTrainer) -> None:
    marker = _run_daemon_job(make_trainer)
    _wait_for(lambda: not [pid for pid in _processes_named(marker) if _alive(pid)], seconds=2)


def test_a_daemon_left_behind_holds_no_slot(
    make_trainer: MakeTrainer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAGEYARD_SLOTS", "1")
    _run_daemon_job(make_trainer)
    after = make_trainer(
        "print('ran')", stopping_condition=StoppingCondition(max_pending_time_in_seconds=5)
    )
    after.train(logs=False)
    assert after._latest_training_job.training_job_status == "Completed"  # type: ignore[union-attr]


@pytest.fixture
def silent_index() -> Iterator[str]:
    """An HTTP index that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    done = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not done.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/simple"
    done.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def _pip_processes(marker: str) -> list[int]:
    """pip processes with ``marker`` in their command line."""
    return _processes(lambda argv: b"pip" in b" ".join(argv) and marker.encode() in b" ".join(argv))


def test_a_stop_during_the_requirements_install_ends_the_job_stopped(
    make_trainer: MakeTrainer, code_dir: Callable[..., Path], silent_index: str
) -> None:
    folder = code_dir("print('never runs')")
    name = f"reqs-{os.getpid()}-{time.time_ns()}.txt"
    (folder / name).write_text(f"--index-url {silent_index}\n--timeout 60\nsome-package\n")
    trainer = make_trainer(
        None,
        source_code=SourceCode(source_dir=str(folder), entry_script="train.py", requirements=name),
    )
    trainer.train(wait=False)
    job = trainer._latest_training_job
    assert job is not None
    _wait_for(lambda: bool(_pip_processes(name)), seconds=30)
    began = time.time()
    job.stop()
    _wait_for(lambda: job.refresh().training_job_status in ("Stopped", "Failed"), seconds=10)
    assert job.training_job_status == "Stopped", job.describe().get("FailureReason")
    assert job.secondary_status == "Stopped"
    assert time.time() - began < 10
    assert _pip_processes(name) == []


def test_max_runtime_ends_a_requirements_install_that_hangs(
    make_trainer: MakeTrainer, code_dir: Callable[..., Path], silent_index: str
) -> None:
    folder = code_dir("print('never runs')")
    name = f"reqs-{os.getpid()}-{time.time_ns()}.txt"
    (folder / name).write_text(f"--index-url {silent_index}\nsome-package\n")  # pip waits
    trainer = make_trainer(
        None,
        source_code=SourceCode(source_dir=str(folder), entry_script="train.py", requirements=name),
        stopping_condition=StoppingCondition(max_runtime_in_seconds=3),
    )
    began = time.time()
    trainer.train(wait=False)
    job = trainer._latest_training_job
    assert job is not None
    ended = ("Stopped", "Failed", "Completed")  # not Stopping: the end is being written
    _wait_for(lambda: job.refresh().training_job_status in ended, seconds=30)
    assert (job.training_job_status, job.secondary_status) == ("Stopped", "MaxRuntimeExceeded"), (
        job.describe().get("FailureReason")
    )
    assert time.time() - began < 20
    assert _pip_processes(name) == []


def test_max_pending_time_expiry_ends_the_job_stopped(
    make_trainer: MakeTrainer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAGEYARD_SLOTS", "1")
    busy = make_trainer("import time; time.sleep(5)")
    busy.train(wait=False)
    busy_job = busy._latest_training_job
    assert busy_job is not None
    _wait_for(lambda: busy_job.refresh().secondary_status == "Training")
    waiting = make_trainer(
        "print('ran')", stopping_condition=StoppingCondition(max_pending_time_in_seconds=1)
    )
    waiting.train(wait=False)
    job = waiting._latest_training_job
    assert job is not None
    _wait_for(lambda: job.refresh().training_job_status not in ("InProgress", "Stopping"))
    assert (job.training_job_status, job.secondary_status) == ("Stopped", "Stopped")
    messages = [t.status_message for t in job.secondary_status_transitions]
    assert any("MaxPendingTimeInSeconds" in (m or "") for m in messages)
    subprocess.run(["true"], check=True)  # nothing of the waiting job ran
    assert "ran" not in job.logs()
