"""The ``sageyard`` command against real jobs run as real processes."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from sageyard.cli import main
from sageyard.core.settings import Settings
from sageyard.jobs.service import TrainingJobService
from sageyard.train import ModelTrainer
from sageyard.train.configs import MetricDefinition, SourceCode

SAGEYARD = Path(sys.executable).with_name("sageyard")

TRAIN = """\
import argparse, sys, time

parser = argparse.ArgumentParser()
parser.add_argument("--ticks", type=int, default=3)
parser.add_argument("--sleep", type=float, default=0.0)
parser.add_argument("--fail", default="no")
args, _ = parser.parse_known_args()
for i in range(args.ticks):
    print(f"tick {i} loss={1 / (i + 1):.3f}", flush=True)
    time.sleep(args.sleep)
if args.fail == "yes":
    sys.exit("boom: asked to fail")
print("finished", flush=True)
"""


def start_job(
    code_dir: Path, base: str, *, wait: bool = True, fails: bool = False, **hyperparameters: object
) -> str:
    trainer = ModelTrainer(
        training_image="python:3.11",
        base_job_name=base,
        source_code=SourceCode(source_dir=str(code_dir), entry_script="train.py"),
        hyperparameters=hyperparameters,
    )
    trainer.with_metric_definitions([MetricDefinition(name="train:loss", regex="loss=([0-9.]+)")])
    if fails:
        with pytest.raises(RuntimeError, match="boom: asked to fail"):
            trainer.train(wait=wait, logs=False)
    else:
        trainer.train(wait=wait, logs=False)
    job = trainer._latest_training_job
    assert job is not None
    return str(job.training_job_name)


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def wait_until_ended(name: str, timeout: float = 20.0) -> str:
    """The job's final status, once it has one."""
    service = TrainingJobService(Settings.from_env())
    deadline = time.monotonic() + timeout
    while (current := service.get(name).status) in ("InProgress", "Stopping"):
        assert time.monotonic() < deadline, f"{name} is still {current} after {timeout} s"
        time.sleep(0.1)
    return current


@pytest.fixture(scope="module")
def code_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli-code")
    (path / "train.py").write_text(TRAIN)
    return path


@dataclass(frozen=True)
class Finished:
    home: Path
    completed: str
    failed: str


@pytest.fixture(scope="module")
def finished_jobs(tmp_path_factory: pytest.TempPathFactory, code_dir: Path) -> Finished:
    """One Completed and one (newer) Failed job, shared read-only by the tests that use them."""
    home = tmp_path_factory.mktemp("cli-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SAGEYARD_HOME", str(home))
        mp.setenv("SAGEYARD_HEARTBEAT_SECONDS", "1")
        for name in ("SAGEYARD_STORE_URL", "SAGEYARD_S3_ENDPOINT_URL", "SAGEYARD_EXECUTOR"):
            mp.delenv(name, raising=False)
        completed = start_job(code_dir, "cli-ok", epochs=2)
        failed = start_job(code_dir, "cli-bad", fails=True, fail="yes")
    return Finished(home, completed, failed)


@pytest.fixture
def finished(finished_jobs: Finished, monkeypatch: pytest.MonkeyPatch) -> Iterator[Finished]:
    monkeypatch.setenv("SAGEYARD_HOME", str(finished_jobs.home))
    yield finished_jobs


def test_list_newest_first_with_metrics_and_filters(finished: Finished) -> None:
    result = cli("jobs", "list")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[:2] == ["Name", "Status"]
    assert [line.split()[:2] for line in lines[1:]] == [
        [finished.failed, "Failed"],
        [finished.completed, "Completed"],
    ]
    assert "train:loss=0.333" in lines[2]
    assert "train:loss=0.333" in lines[1]  # a failed job keeps its last values too

    only_completed = cli("jobs", "list", "--status", "completed").stdout
    assert finished.completed in only_completed
    assert finished.failed not in only_completed
    by_name = cli("jobs", "list", "--name-contains", "cli-ok").stdout
    assert finished.completed in by_name
    assert finished.failed not in by_name
    newest = cli("jobs", "list", "--max-results", "1").stdout
    assert finished.failed in newest
    assert finished.completed not in newest
    assert cli("jobs", "list", "--status", "Stopping").stdout == "No training jobs found.\n"


def test_describe(finished: Finished) -> None:
    result = cli("jobs", "describe", finished.completed)
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert text.splitlines()[0] == finished.completed
    for expected in (
        "Status            Completed",
        "Image             python:3.11",
        "Model artifacts   s3://",
        "epochs  2",
        "Final metrics",
        "train:loss  0.333",
        "Secondary status transitions",
        "Training job completed",
    ):
        assert expected in text, expected
    assert "Failure reason" not in text

    failed = cli("jobs", "describe", finished.failed).stdout
    assert "Status            Failed" in failed
    assert "Failure reason    AlgorithmError" in failed
    assert "boom: asked to fail" in failed


def test_describe_json(finished: Finished) -> None:
    result = cli("jobs", "describe", finished.completed, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["TrainingJobName"] == finished.completed
    assert data["TrainingJobStatus"] == "Completed"
    assert data["HyperParameters"] == {"epochs": "2"}
    assert data["FinalMetricDataList"][0]["MetricName"] == "train:loss"
    created = datetime.fromisoformat(data["CreationTime"])
    assert created <= datetime.fromisoformat(data["TrainingEndTime"])
    assert data["ModelArtifacts"]["S3ModelArtifacts"].endswith("/output/model.tar.gz")


def test_logs(finished: Finished) -> None:
    result = cli("jobs", "logs", finished.completed)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "tick 0 loss=1.000",
        "tick 1 loss=0.500",
        "tick 2 loss=0.333",
        "finished",
    ]


def test_unknown_job_is_one_red_line_and_exit_1(finished: Finished) -> None:
    for command in (["describe", "nope"], ["describe", "nope", "--json"], ["logs", "nope"]):
        result = cli("jobs", *command)
        assert result.exit_code == 1
        assert result.stdout == ""
        assert result.stderr.startswith(
            "Error: ResourceNotFound: Training job 'nope' does not exist"
        )
        assert result.stderr.count("\n") == 1
    result = cli("jobs", "stop", "nope")
    assert (result.exit_code, result.stderr.count("\n")) == (1, 1)
    assert "ResourceNotFound" in result.stderr


def test_stop_a_completed_job_is_refused(finished: Finished) -> None:
    result = cli("jobs", "stop", finished.completed)
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: ValidationException: Training job {finished.completed!r} has status "
        "Completed; only an InProgress job can be stopped.\n"
    )


def test_real_process(finished: Finished) -> None:
    env = {**os.environ, "SAGEYARD_HOME": str(finished.home)}
    listed = subprocess.run(
        [str(SAGEYARD), "jobs", "list"], env=env, capture_output=True, text=True, timeout=30
    )
    assert listed.returncode == 0, listed.stderr
    assert finished.completed in listed.stdout
    assert finished.failed in listed.stdout
    missing = subprocess.run(
        [str(SAGEYARD), "jobs", "describe", "nope"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert missing.returncode == 1
    assert missing.stdout == ""
    assert missing.stderr.startswith("Error: ResourceNotFound: Training job 'nope'")
    assert "Traceback" not in missing.stderr


def test_logs_follow_a_running_job(code_dir: Path) -> None:
    name = start_job(code_dir, "cli-follow", wait=False, ticks=6, sleep=0.25)
    assert TrainingJobService(Settings.from_env()).get(name).status == "InProgress"
    result = cli("jobs", "logs", name, "-f")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        *(f"tick {i} loss={1 / (i + 1):.3f}" for i in range(6)),
        "finished",
    ]
    assert TrainingJobService(Settings.from_env()).get(name).status == "Completed"


def test_ctrl_c_then_stop_a_running_job(code_dir: Path) -> None:
    name = start_job(code_dir, "cli-stop", wait=False, ticks=300, sleep=0.1)

    # `sageyard jobs logs -f` in a real process, interrupted once it printed a line.
    follow = subprocess.Popen(
        [str(SAGEYARD), "jobs", "logs", name, "--follow"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert follow.stdout is not None
        ready, _, _ = select.select([follow.stdout], [], [], 20)
        assert ready, "no log line within 20 s"
        assert follow.stdout.readline() == "tick 0 loss=1.000\n"
        follow.send_signal(signal.SIGINT)
        _, stderr = follow.communicate(timeout=20)
    finally:
        if follow.poll() is None:
            follow.kill()
            follow.wait()
    assert follow.returncode == 130
    assert "Traceback" not in stderr

    result = cli("jobs", "stop", name)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Stopping training job {name} (was InProgress).")
    assert wait_until_ended(name) == "Stopped"
    assert "Status            Stopped" in cli("jobs", "describe", name).stdout
    again = cli("jobs", "stop", name)
    assert again.exit_code == 1
    assert "has status Stopped; only an InProgress job can be stopped." in again.stderr


CREATE_AND_EXIT = """\
import sys
from sageyard.train import ModelTrainer
from sageyard.train.configs import SourceCode

trainer = ModelTrainer(
    training_image="python:3.11",
    base_job_name="cli-orphan",
    source_code=SourceCode(source_dir=sys.argv[1], entry_script="train.py"),
    hyperparameters={"ticks": 40, "sleep": 0.1},
)
trainer.train(wait=False, logs=False)
print(trainer._latest_training_job.training_job_name)
"""


def test_stop_a_job_whose_creator_has_exited(code_dir: Path) -> None:
    """The usual shell workflow: a script starts a job with wait=False and exits."""
    created = subprocess.run(
        [sys.executable, "-c", CREATE_AND_EXIT, str(code_dir)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    name = created.stdout.strip()
    result = cli("jobs", "stop", name)
    assert result.exit_code == 0, result.output
    assert wait_until_ended(name, timeout=8) == "Stopped"


SECRET = "hunter22-Zq9vXw-pw"
LEAKY = """\
import os
password = os.environ["DB_PASSWORD"]
print(f"connecting as admin with {password}", flush=True)
raise RuntimeError(f"could not log in to postgres://admin:{password}@db/prod")
"""


def _leaks(text: str) -> list[str]:
    """Pieces (6+ characters) of SECRET in ``text``: none may be shown anywhere."""
    flat = text.replace("\n", "")
    return [SECRET[i : i + 6] for i in range(len(SECRET) - 5) if SECRET[i : i + 6] in flat]


def test_a_secret_in_a_traceback_is_masked_everywhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A job's script fails with its password in the traceback: describe, the exception,
    the followed logs, `sageyard jobs describe`/`logs` (in this process and a real one)
    never show it."""
    (tmp_path / "train.py").write_text(LEAKY)
    trainer = ModelTrainer(
        training_image="python:3.11",
        base_job_name="cli-masked",
        source_code=SourceCode(source_dir=str(tmp_path), entry_script="train.py"),
        environment={"DB_PASSWORD": SECRET, "DB_URL": f"postgres://admin:{SECRET}@db/prod"},
    )
    with pytest.raises(RuntimeError) as caught:
        trainer.train(logs=True)
    followed = capsys.readouterr().out
    assert "connecting as admin with ********" in followed
    assert _leaks(followed) == [] and _leaks(str(caught.value)) == []
    assert "postgres://admin:********@db/prod" in str(caught.value)
    job = trainer._latest_training_job
    assert job is not None
    name = str(job.training_job_name)
    assert job.failure_reason is not None and _leaks(job.failure_reason) == []
    description = TrainingJobService(Settings.from_env()).describe(name)
    assert description["Environment"] == {
        "DB_PASSWORD": "********",
        "DB_URL": "postgres://admin:********@db/prod",
    }
    assert _leaks(json.dumps(description, default=str)) == []
    assert _leaks("\n".join(job.logs())) == []

    shown = cli("jobs", "describe", name)
    assert shown.exit_code == 0 and "Failure reason    AlgorithmError" in shown.stdout
    assert "********" in shown.stdout and _leaks(shown.stdout) == []
    as_json = cli("jobs", "describe", name, "--json").stdout
    assert "postgres://admin:********@db/prod" in json.loads(as_json)["FailureReason"]
    assert _leaks(as_json) == []
    logs = cli("jobs", "logs", name).stdout
    assert "connecting as admin with ********" in logs and _leaks(logs) == []
    listed = cli("jobs", "list").stdout
    assert name in listed and _leaks(listed) == []
    real = subprocess.run(
        [str(SAGEYARD), "jobs", "describe", name, "--json"],
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert real.returncode == 0, real.stderr
    assert _leaks(real.stdout + real.stderr) == []


def test_a_database_error_is_one_store_error_line(tmp_path: Path) -> None:
    """A full disk under the store reads as a StoreError naming the disk, not a traceback."""
    import sqlite3

    import sqlalchemy.exc

    from sageyard.cli import error_line

    full = sqlalchemy.exc.OperationalError(
        "UPDATE jobs", {}, sqlite3.OperationalError("database or disk is full")
    )
    line = error_line(full)
    assert line is not None and line.startswith("StoreError: The job store sqlite:///")
    assert "could not be read or written: No space left on device on " in line
    assert "store.db" in line and "\n" not in line
