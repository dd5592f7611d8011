"""``sageyard tuning`` against real tuning jobs whose trials run as real processes."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from sageyard.cli import main
from sageyard.cli._render import format_value
from sageyard.core.parameter import ContinuousParameter, IntegerParameter
from sageyard.core.settings import Settings
from sageyard.train import ModelTrainer
from sageyard.train.configs import SourceCode
from sageyard.train.tuner import HyperparameterTuner
from sageyard.tuning.service import TuningJobService

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# The third trial of every tuning job fails (its name is <tuning job>-003-<hex>).
TRAIN = """\
import argparse, os, sys, time

parser = argparse.ArgumentParser()
parser.add_argument("--x", type=float)
parser.add_argument("--y", type=int)
parser.add_argument("--sleep", type=float, default=0.0)
args, _ = parser.parse_known_args()
for step in range(1, 4):
    print(f"val_acc={args.x * args.y / 10 * step / 3:.4f}", flush=True)
    time.sleep(args.sleep / 3)
if "-003-" in os.environ["TRAINING_JOB_NAME"]:
    sys.exit("boom: the third trial fails")
"""


def make_tuner(
    code_dir: Path, base: str, *, sleep: float = 0.0, **kwargs: Any
) -> HyperparameterTuner:
    trainer = ModelTrainer(
        training_image="python:3.11",
        base_job_name=base,
        source_code=SourceCode(source_dir=str(code_dir), entry_script="train.py"),
        hyperparameters={"sleep": sleep},
    )
    kwargs.setdefault("max_jobs", 6)
    kwargs.setdefault("max_parallel_jobs", 2)
    return HyperparameterTuner(
        trainer,
        "val:acc",
        {"x": ContinuousParameter(0, 1), "y": IntegerParameter(2, 10)},
        metric_definitions=[{"Name": "val:acc", "Regex": "val_acc=([-0-9.]+)"}],
        strategy="Random",
        random_seed=1,
        **kwargs,
    )


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def lines_of(text: str) -> list[str]:
    """The lines without the trailing spaces rich pads grids with."""
    return [line.rstrip() for line in text.splitlines()]


def wait_for_a_running_trial(name: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not service().describe(name)["TrainingJobStatusCounters"]["InProgress"]:
        assert time.monotonic() < deadline, f"no trial of {name} started within {timeout} s"
        time.sleep(0.05)


def service() -> TuningJobService:
    return TuningJobService(Settings.from_env())


@pytest.fixture(scope="module")
def code_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tuning-code")
    (path / "train.py").write_text(TRAIN)
    return path


@dataclass(frozen=True)
class Finished:
    home: Path
    name: str


@pytest.fixture(scope="module")
def finished_job(tmp_path_factory: pytest.TempPathFactory, code_dir: Path) -> Finished:
    """One Completed tuning job of 6 trials (the third failed), shared read-only."""
    home = tmp_path_factory.mktemp("tuning-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SAGEYARD_HOME", str(home))
        mp.setenv("SAGEYARD_HEARTBEAT_SECONDS", "1")
        mp.setenv("SAGEYARD_STOP_GRACE_SECONDS", "2")
        for name in ("SAGEYARD_STORE_URL", "SAGEYARD_S3_ENDPOINT_URL", "SAGEYARD_EXECUTOR"):
            mp.delenv(name, raising=False)
        tuner = make_tuner(code_dir, "cli-tune")
        tuner.tune()
        assert tuner.latest_tuning_job is not None
        return Finished(home, tuner.latest_tuning_job.name)


@pytest.fixture
def finished(finished_job: Finished, monkeypatch: pytest.MonkeyPatch) -> Iterator[Finished]:
    monkeypatch.setenv("SAGEYARD_HOME", str(finished_job.home))
    yield finished_job


def test_help_lists_the_tuning_commands() -> None:
    result = cli("tuning", "-h")
    assert result.exit_code == 0
    for command in ("list", "describe", "stop", "resume", "plot"):
        assert command in result.output


def test_list(finished: Finished) -> None:
    result = cli("tuning", "list")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "Name",
        "Status",
        "Strategy",
        "Trials",
        "Running",
        "Best",
        "Created",
    ]
    best = service().describe(finished.name)["BestTrainingJob"]
    value = best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
    assert lines[1].split()[:6] == [
        finished.name,
        "Completed",
        "Random",
        "6/6",
        "0",
        format_value(value),
    ]
    assert len(lines) == 2

    assert finished.name in cli("tuning", "list", "--status", "completed").stdout
    assert finished.name in cli("tuning", "list", "--name-contains", "cli-tu").stdout
    assert finished.name in cli("tuning", "list", "--max-results", "1").stdout
    for args in (["--status", "Stopped"], ["--name-contains", "nothing-like-it"]):
        assert cli("tuning", "list", *args).stdout == "No tuning jobs found.\n"


def test_describe(finished: Finished) -> None:
    result = cli("tuning", "describe", finished.name)
    assert result.exit_code == 0, result.output
    text = result.stdout
    lines = lines_of(text)
    assert lines[0] == finished.name
    for expected in (
        "Status          Completed",
        "Strategy        Random",
        "Objective       Maximize val:acc",
        "Limits          6 trials, 2 in parallel",
        "Trials          6/6 done, 0 running",
        "Training jobs   5 completed, 1 failed",
        "Objectives      5 succeeded, 1 failed",
        "Random seed     1",
        "Parameter ranges",
        "Best training job",
        "Completion details",
    ):
        assert expected in lines, expected
    assert "Failure reason" not in text.split("\nTrials\n")[0]  # the tuning job did not fail

    summaries = sorted(service().summaries(finished.name), key=lambda s: s["CreationTime"])
    best = service().describe(finished.name)["BestTrainingJob"]
    assert f"Name       {best['TrainingJobName']}" in lines
    trials = text.split("\nTrials\n")[1].splitlines()
    assert trials[0].split()[:5] == ["#", "Training", "job", "x", "y"]
    assert len(trials) == 7
    for number, (line, summary) in enumerate(zip(trials[1:], summaries, strict=True), 1):
        cells = line.split()
        assert cells[0] == str(number)
        assert summary["TrainingJobName"] in cells
        assert summary["TunedHyperParameters"]["y"] in cells
        assert summary["TrainingJobStatus"] in cells
        assert ("★" in cells) == (summary["TrainingJobName"] == best["TrainingJobName"])
    assert "Failed" in trials[3]
    assert "AlgorithmError" in trials[3]
    assert "boom: the third trial fails" in trials[3]


def test_describe_json(finished: Finished) -> None:
    result = cli("tuning", "describe", finished.name, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["HyperParameterTuningJobName"] == finished.name
    assert data["HyperParameterTuningJobStatus"] == "Completed"
    assert data["TrainingJobStatusCounters"]["Completed"] == 5
    assert data["TrainingJobStatusCounters"]["NonRetryableError"] == 1
    best = service().describe(finished.name)["BestTrainingJob"]
    assert data["BestTrainingJob"]["TrainingJobName"] == best["TrainingJobName"]
    assert data["CreationTime"] <= data["HyperParameterTuningEndTime"]


def test_describe_watch_of_an_ended_job_prints_it_once(finished: Finished) -> None:
    result = cli("tuning", "describe", finished.name, "--watch")
    assert result.exit_code == 0, result.output
    assert result.stdout == cli("tuning", "describe", finished.name).stdout


def test_json_and_watch_together_are_a_usage_error(finished: Finished) -> None:
    result = CliRunner().invoke(main, ["tuning", "describe", finished.name, "--json", "--watch"])
    assert result.exit_code == 2
    assert "--json and --watch cannot be used together" in result.stderr


def test_plot(finished: Finished, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "plots" / "progress.png"
    result = cli("tuning", "plot", finished.name, "-o", str(target))
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{target}\n"
    assert target.read_bytes().startswith(PNG_SIGNATURE)

    monkeypatch.chdir(tmp_path)
    result = cli("tuning", "plot", finished.name)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{finished.name}-progress.png\n"
    assert (tmp_path / f"{finished.name}-progress.png").read_bytes().startswith(PNG_SIGNATURE)


def test_unknown_tuning_job_is_one_red_line_and_exit_1(finished: Finished) -> None:
    for command in (
        ["describe", "nope"],
        ["describe", "nope", "--json"],
        ["describe", "nope", "--watch"],
        ["stop", "nope"],
        ["plot", "nope"],
    ):
        result = cli("tuning", *command)
        assert result.exit_code == 1, command
        assert result.stdout == ""
        assert result.stderr.startswith(
            "Error: ResourceNotFound: Tuning job 'nope' does not exist"
        ), command
        assert result.stderr.count("\n") == 1
    # A training job is not a tuning job.
    trial = service().summaries(finished.name)[0]["TrainingJobName"]
    result = cli("tuning", "describe", trial)
    assert result.exit_code == 1
    assert f"Tuning job {trial!r} does not exist" in result.stderr


def test_stop_a_completed_tuning_job_is_refused(finished: Finished) -> None:
    result = cli("tuning", "stop", finished.name)
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: ValidationException: Tuning job {finished.name!r} has status Completed; "
        "only an InProgress tuning job can be stopped.\n"
    )


def test_resume_a_completed_tuning_job_is_refused(finished: Finished) -> None:
    result = cli("tuning", "resume", finished.name)
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"Error: ValidationException: Tuning job {finished.name!r} ended Completed. Only a "
        "tuning job whose supervisor was interrupted can be resumed;"
    )


def test_resume_an_interrupted_tuning_job(
    finished_job: Finished, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"  # a copy: the shared job stays as it is
    shutil.copytree(finished_job.home, home)
    monkeypatch.setenv("SAGEYARD_HOME", str(home))
    finished = Finished(home, finished_job.name)
    store = service().store
    reason = "InternalServerError: the tuning job was interrupted: its supervisor is gone."
    store.update(finished.name, status="Failed", document_patch={"failure_reason": reason})
    result = cli("tuning", "resume", finished.name)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Resumed tuning job {finished.name}: ")
    assert "training jobs launched so far" in result.output
    deadline = time.monotonic() + 20  # every trial ran already: the supervisor just ends
    while service().get(finished.name).status != "Completed" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert service().get(finished.name).status == "Completed"


def test_stop_a_running_tuning_job(code_dir: Path) -> None:
    tuner = make_tuner(code_dir, "cli-stop", sleep=1.0, max_jobs=6, max_parallel_jobs=2)
    tuner.tune(wait=False)
    job = tuner.latest_tuning_job
    assert job is not None
    wait_for_a_running_trial(job.name)
    result = cli("tuning", "stop", job.name)
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"Stopping tuning job {job.name} (was InProgress). "
        f"Follow it with `sageyard tuning describe {job.name} --watch`.\n"
    )
    again = cli("tuning", "stop", job.name)
    assert again.exit_code == 0 or "has status Stopped" in again.stderr
    job.wait(timeout=60)
    described = job.describe()
    assert described["HyperParameterTuningJobStatus"] == "Stopped"
    counters = described["TrainingJobStatusCounters"]
    assert counters["InProgress"] == 0
    assert counters["Stopped"] >= 1  # its running trials were stopped with it
    assert sum(counters.values()) < 6  # and no more were launched
    text = cli("tuning", "describe", job.name).stdout
    assert "Status          Stopped" in lines_of(text)
    trials = lines_of(text.split("\nTrials\n")[1])[1:]
    assert "Stopped" in {cell for row in trials for cell in row.split()}


def test_describe_watch_returns_when_the_tuning_job_ends(code_dir: Path) -> None:
    tuner = make_tuner(code_dir, "cli-watch", sleep=0.6, max_jobs=4, max_parallel_jobs=2)
    tuner.tune(wait=False)
    job = tuner.latest_tuning_job
    assert job is not None
    assert service().get(job.name).status == "InProgress"
    started = time.monotonic()
    result = cli("tuning", "describe", job.name, "--watch")
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started > 0.5  # it did wait
    assert service().get(job.name).status == "Completed"
    # A pipe gets the final view once, with every trial, and no live frames.
    assert result.stdout == cli("tuning", "describe", job.name).stdout
    assert result.stdout.count("Refreshing every") == 0
    lines = lines_of(result.stdout)
    assert lines[0] == job.name
    assert "Status          Completed" in lines
    assert "Trials          4/4 done, 0 running" in lines
