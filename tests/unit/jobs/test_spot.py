"""Managed spot training in the simulated spot market (``jobs/spot.py``): interruptions,
restarts, capacity waits, MaxWaitTimeInSeconds and the billable time."""

from __future__ import annotations

import math
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from sageyard.core.exceptions import ConfigurationError
from sageyard.core.settings import Settings
from sageyard.executors.scripted import Script, ScriptedExecutor
from sageyard.jobs.service import TrainingJobService
from sageyard.jobs.spot import SpotMarket
from sageyard.jobs.watch import Stopping, decide
from tests.unit.jobs.test_supervisor import _request, _run, _statuses


def _spot(code_dir: Path, runtime: int = 60, wait: int = 600, **changes: Any) -> dict[str, Any]:
    return _request(
        code_dir,
        EnableManagedSpotTraining=True,
        StoppingCondition={"MaxRuntimeInSeconds": runtime, "MaxWaitTimeInSeconds": wait},
        CheckpointConfig={"S3Uri": "s3://bucket/checkpoints"},
        **changes,
    )


def test_an_interrupted_job_restarts_and_bills_the_spot_price(
    service: TrainingJobService, code_dir: Path, tmp_path: Path
) -> None:
    settings = service.settings.with_overrides(spot_interruptions=(0.3,), spot_savings=0.5)
    executor = ScriptedExecutor({"algo-1": [Script(seconds=60), Script(seconds=0.8)]}, tmp_path)
    job = _run(service, _spot(code_dir), executor, settings)
    assert (job.status, job.secondary_status) == ("Completed", "Completed")
    first, second = executor.hosts
    assert first.signals[0] == signal.SIGTERM  # the notice, as EC2 gives it
    assert not second.signals
    statuses = _statuses(service, "job")
    assert statuses.count("Interrupted") == 1
    after = statuses[statuses.index("Interrupted") :]
    assert after[:3] == ["Interrupted", "Downloading", "Training"]
    assert "Restarting" not in statuses  # an interruption is not a retry
    described = service.describe("job")
    trained = job.document["training_seconds"]
    assert trained == 1  # 0.3 s + 0.8 s of training
    assert described["TrainingTimeInSeconds"] == trained
    assert described["BillableTimeInSeconds"] == job.document["billable_seconds"] == 1


def test_interruptions_do_not_use_up_the_retry_strategy(
    service: TrainingJobService, code_dir: Path, tmp_path: Path
) -> None:
    settings = service.settings.with_overrides(spot_interruptions=(0.2, 0.4))
    scripts = [Script(seconds=60), Script(seconds=60), Script(seconds=0.1)]
    executor = ScriptedExecutor({"algo-1": scripts}, tmp_path)
    job = _run(service, _spot(code_dir), executor, settings)
    assert job.status == "Completed"
    assert _statuses(service, "job").count("Interrupted") == 2
    assert len(executor.hosts) == 3


def test_a_script_that_ignores_the_notice_is_killed_after_it(
    service: TrainingJobService, code_dir: Path, tmp_path: Path
) -> None:
    settings = service.settings.with_overrides(spot_interruptions=(0.2,), spot_notice_seconds=0.3)
    stubborn = Script(seconds=60, on_sigterm=None)
    executor = ScriptedExecutor({"algo-1": [stubborn, Script()]}, tmp_path)
    job = _run(service, _spot(code_dir), executor, settings)
    assert job.status == "Completed"
    assert executor.hosts[0].signals == [signal.SIGTERM, signal.SIGKILL]


def test_the_capacity_wait_counts_against_max_wait_time(
    service: TrainingJobService, code_dir: Path, tmp_path: Path
) -> None:
    settings = service.settings.with_overrides(spot_capacity_wait_seconds=3.0)
    executor = ScriptedExecutor(Script(), tmp_path)
    job = _run(service, _spot(code_dir, runtime=1, wait=1), executor, settings)
    assert (job.status, job.secondary_status) == ("Stopped", "MaxWaitTimeExceeded")
    assert not executor.hosts  # it never got capacity
    statuses = _statuses(service, "job")
    assert "MaxWaitTimeExceeded" in statuses


def test_max_wait_time_ends_a_job_that_keeps_being_interrupted(
    service: TrainingJobService, code_dir: Path, tmp_path: Path
) -> None:
    settings = service.settings.with_overrides(
        spot_interruptions=(0.3,), spot_capacity_wait_seconds=0.5
    )
    executor = ScriptedExecutor({"algo-1": [Script(seconds=60), Script(seconds=60)]}, tmp_path)
    job = _run(service, _spot(code_dir, runtime=1, wait=1), executor, settings)
    assert (job.status, job.secondary_status) == ("Stopped", "MaxWaitTimeExceeded")


def test_max_runtime_counts_the_training_of_every_attempt(
    service: TrainingJobService, code_dir: Path, tmp_path: Path
) -> None:
    settings = service.settings.with_overrides(spot_interruptions=(1.0,))
    executor = ScriptedExecutor({"algo-1": [Script(seconds=60), Script(seconds=60)]}, tmp_path)
    started = time.monotonic()
    job = _run(service, _spot(code_dir, runtime=2), executor, settings)
    assert (job.status, job.secondary_status) == ("Stopped", "MaxRuntimeExceeded")
    assert time.monotonic() - started < 4  # 1 s before the interruption + 1 s after it
    assert len(executor.hosts) == 2


def test_the_watch_interrupts_at_the_market_time_and_ends_at_max_wait() -> None:
    market = SpotMarket(interruptions=(5.0,))
    assert market.next_interruption(5.0) is None
    state = Stopping(deadline=10.0, grace=1.0, interrupt_at=5.0, notice=2.0)
    state, signum = decide(state, 5.0, [None], False)
    assert (state.reason, state.kill_at, signum) == ("Interrupted", 7.0, signal.SIGTERM)
    waited = Stopping(deadline=10.0, grace=1.0, wait_deadline=4.0, interrupt_at=4.0)
    assert decide(waited, 4.0, [None], False)[0].reason == "MaxWaitTimeExceeded"


def test_random_interruptions_are_the_same_for_the_same_job_and_seed() -> None:
    settings = Settings(home=Path("/h"), store_url="sqlite://", spot_interruption_rate=60.0)
    first = SpotMarket.from_settings(settings, "job-a")
    again = SpotMarket.from_settings(settings, "job-a")
    other = SpotMarket.from_settings(settings, "job-b")
    times = [first.next_interruption(0.0, n) for n in range(5)]
    assert times == [again.next_interruption(0.0, n) for n in range(5)]
    assert times != [other.next_interruption(0.0, n) for n in range(5)]
    assert all(t is not None and t >= 1.0 for t in times)
    assert SpotMarket(savings=0.7).billable_seconds(101) == math.ceil(101 * 0.3)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SAGEYARD_SPOT_INTERRUPTIONS", "30,x"),
        ("SAGEYARD_SPOT_INTERRUPTIONS", "90,30"),
        ("SAGEYARD_SPOT_INTERRUPTIONS", "-1"),
        ("SAGEYARD_SPOT_INTERRUPTION_RATE", "-2"),
        ("SAGEYARD_SPOT_SAVINGS", "1.5"),
        ("SAGEYARD_SPOT_SAVINGS", "nan"),
        ("SAGEYARD_SPOT_CAPACITY_WAIT_SECONDS", "soon"),
    ],
)
def test_bad_spot_settings_are_refused_with_the_value(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=name):
        Settings.from_env({"SAGEYARD_HOME": "/h", name: value})


def test_spot_settings_reach_the_supervisor() -> None:
    env = {
        "SAGEYARD_HOME": "/h",
        "SAGEYARD_SPOT_INTERRUPTIONS": "30,90.5",
        "SAGEYARD_SPOT_NOTICE_SECONDS": "120",
        "SAGEYARD_SPOT_SAVINGS": "0.6",
    }
    settings = Settings.from_env(env)
    assert settings.spot_interruptions == (30.0, 90.5)
    again = Settings.from_env(settings.to_env())
    assert again == settings
