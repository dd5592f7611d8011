"""Warm pools for real: the next matching job runs in the pool's warmed interpreter, sees
nothing of the job before it, can be stopped, and the pool ends with its period."""

from __future__ import annotations

import itertools
import os
import time
from pathlib import Path

import pytest

from sageyard.jobs.service import TrainingJobService
from sageyard.runtime.sandbox import sandbox_kind
from sageyard.train.configs import Compute, StoppingCondition
from tests.integration.conftest import MakeTrainer, tar_members

#: What a job can see of the job before it, then what it leaves for the next one.
SNOOP = """
    import json, os, sys
    seen = {
        "tmp": sorted(os.listdir("/tmp")),
        "shm": sorted(os.listdir("/dev/shm")),
        "model": sorted(os.listdir(os.environ["SM_MODEL_DIR"])),
        "argv": sys.argv[1:],
        "module": "left_behind" in sys.modules,
    }
    print("SEEN " + json.dumps(seen), flush=True)
    sys.modules["left_behind"] = sys
    open("/tmp/secret", "w").write("from the job before")
    open("/dev/shm/secret", "w").write("from the job before")
    os.makedirs("/tmp/folder/inside", exist_ok=True)
    name = os.environ["TRAINING_JOB_NAME"]
    open(os.path.join(os.environ["SM_MODEL_DIR"], name + ".txt"), "w").write(name)
"""

pytestmark = pytest.mark.skipif(sandbox_kind() != "bwrap", reason="needs bubblewrap")


def _seen(job: object) -> dict:
    import json

    lines = [line for line in job.logs() if line.startswith("SEEN ")]  # type: ignore[attr-defined]
    assert lines, job.logs()  # type: ignore[attr-defined]
    return json.loads(lines[-1][5:])


def _wait_for(check: object, seconds: float = 15.0) -> None:
    deadline = time.time() + seconds
    while not check():  # type: ignore[operator]
        assert time.time() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_the_next_job_runs_warm_and_sees_nothing_of_the_one_before(
    make_trainer: MakeTrainer, service: TrainingJobService, tmp_path: Path
) -> None:
    trainer = make_trainer(
        SNOOP, hyperparameters={"lr": 0.1}, compute=Compute(keep_alive_period_in_seconds=3)
    )
    trainer.train(logs=False)
    first = trainer._latest_training_job
    assert first is not None
    _wait_for(
        lambda: service.describe(first.training_job_name)["WarmPoolStatus"]["Status"] == "Available"
    )
    time.sleep(0.5)  # the warmed interpreter gets ready
    trainer.train(logs=False)
    second = trainer._latest_training_job
    assert second is not None and second.training_job_status == "Completed"
    described = service.describe(first.training_job_name)["WarmPoolStatus"]
    assert described["Status"] == "Reused"
    assert described["ReusedByJob"] == second.training_job_name
    seen, before = _seen(second), _seen(first)  # /tmp holds the mount points bwrap made
    assert seen == before == {**before, "shm": [], "model": [], "argv": ["--lr", "0.1"]}
    assert "secret" not in seen["tmp"] and "folder" not in seen["tmp"] and not seen["module"]
    model = second.describe()["ModelArtifacts"]["S3ModelArtifacts"]
    assert set(tar_members(model, tmp_path)) == {f"{second.training_job_name}.txt"}
    root = Path(os.environ["SAGEYARD_HOME"]) / "jobs" / second.training_job_name / "hosts"
    assert (root / "algo-1" / "model" / f"{second.training_job_name}.txt").exists()


def test_a_job_created_the_moment_the_last_one_ended_finds_its_pool(
    make_trainer: MakeTrainer, service: TrainingJobService
) -> None:
    # the pool is offered before the job's end is written (as a tuning job's next trial)
    trainer = make_trainer("print('hi')", compute=Compute(keep_alive_period_in_seconds=5))
    names = []
    for _ in range(3):
        trainer.train(logs=False)
        job = trainer._latest_training_job
        assert job is not None and job.training_job_status == "Completed"
        names.append(job.training_job_name)
    for before, after in itertools.pairwise(names):
        described = service.describe(before)["WarmPoolStatus"]
        assert (described["Status"], described.get("ReusedByJob")) == ("Reused", after)
    assert service.describe(names[-1])["WarmPoolStatus"]["Status"] == "Available"


def test_a_warm_job_can_be_stopped_and_the_pool_serves_the_next(
    make_trainer: MakeTrainer, service: TrainingJobService
) -> None:
    keep = Compute(keep_alive_period_in_seconds=5)
    make_trainer("print('cold')", compute=keep).train(logs=False)
    time.sleep(0.5)
    slow = make_trainer(
        """
        import signal, sys, time
        def stop(*_):
            print("got SIGTERM", flush=True)
            sys.exit(3)
        signal.signal(signal.SIGTERM, stop)
        print("up", flush=True)
        time.sleep(60)
        """,
        compute=keep,
    )
    slow.train(wait=False)
    job = slow._latest_training_job
    assert job is not None
    _wait_for(lambda: "up" in job.logs())
    job.stop()
    job.wait(logs=False)
    assert job.refresh().training_job_status == "Stopped"
    assert "got SIGTERM" in job.logs()
    after = make_trainer("print('after')", compute=keep)
    after.train(logs=False)
    assert after._latest_training_job.training_job_status == "Completed"  # type: ignore[union-attr]
    pool = service.describe(job.training_job_name)["WarmPoolStatus"]
    assert pool["Status"] == "Reused"


def test_an_idle_pool_gives_its_capacity_to_a_job_that_waits(
    make_trainer: MakeTrainer, service: TrainingJobService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAGEYARD_SLOTS", "1")
    warm = make_trainer("print('warm')", compute=Compute(keep_alive_period_in_seconds=600))
    warm.train(logs=False)
    name = warm._latest_training_job.training_job_name  # type: ignore[union-attr]
    _wait_for(lambda: service.describe(name)["WarmPoolStatus"]["Status"] == "Available")
    other = make_trainer(  # does not match (another instance type): needs the slot
        "print('other')",
        compute=Compute(instance_type="ml.m5.xlarge"),
        stopping_condition=StoppingCondition(max_pending_time_in_seconds=20),
    )
    started = time.monotonic()
    other.train(logs=False)
    assert other._latest_training_job.training_job_status == "Completed"  # type: ignore[union-attr]
    assert time.monotonic() - started < 10  # not the pool's 600 s
    _wait_for(lambda: service.describe(name)["WarmPoolStatus"]["Status"] == "Terminated")


def test_the_pool_ends_with_its_period(
    make_trainer: MakeTrainer, service: TrainingJobService
) -> None:
    warm = make_trainer("print('warm')", compute=Compute(keep_alive_period_in_seconds=1))
    warm.train(logs=False)
    name = warm._latest_training_job.training_job_name  # type: ignore[union-attr]
    _wait_for(lambda: service.describe(name)["WarmPoolStatus"]["Status"] == "Terminated")
    pool = service.describe(name)["WarmPoolStatus"]
    assert pool["ResourceRetainedBillableTimeInSeconds"] >= 1
    assert [p.status for p in service.store.list("WarmPool")] == ["Terminated"]


def test_update_training_job_changes_or_ends_the_keep_alive_period(
    make_trainer: MakeTrainer, service: TrainingJobService
) -> None:
    from sageyard.core.resources import TrainingJob

    warm = make_trainer("print('warm')", compute=Compute(keep_alive_period_in_seconds=600))
    warm.train(logs=False)
    name = warm._latest_training_job.training_job_name  # type: ignore[union-attr]
    _wait_for(lambda: service.describe(name)["WarmPoolStatus"]["Status"] == "Available")
    job = TrainingJob.get(name)
    job.update(resource_config={"keep_alive_period_in_seconds": 1})  # from the job's end
    _wait_for(lambda: service.describe(name)["WarmPoolStatus"]["Status"] == "Terminated")
    again = make_trainer("print('again')", compute=Compute(keep_alive_period_in_seconds=600))
    again.train(logs=False)
    second = again._latest_training_job.training_job_name  # type: ignore[union-attr]
    _wait_for(lambda: service.describe(second)["WarmPoolStatus"]["Status"] == "Available")
    TrainingJob.get(second).update(resource_config={"keep_alive_period_in_seconds": 0})
    _wait_for(lambda: service.describe(second)["WarmPoolStatus"]["Status"] == "Terminated")


def _stop_at_once(make_trainer: MakeTrainer, service: TrainingJobService, keep: Compute) -> None:
    slow = make_trainer("import time; time.sleep(60)", compute=keep)
    slow.train(wait=False)
    job = slow._latest_training_job
    assert job is not None
    _wait_for(lambda: job.refresh().secondary_status == "Training")
    began = time.monotonic()
    job.stop()
    job.wait(logs=False)
    assert job.refresh().training_job_status == "Stopped"
    assert time.monotonic() - began < 10  # the SIGTERM, not the SIGKILL 30 s later
    name = job.training_job_name
    _wait_for(lambda: service.describe(name)["WarmPoolStatus"]["Status"] == "Available")
    time.sleep(0.3)


def test_a_stop_right_after_a_warm_start_reaches_the_script(
    make_trainer: MakeTrainer, service: TrainingJobService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAGEYARD_STOP_GRACE_SECONDS", "30")  # a lost SIGTERM would show
    keep = Compute(keep_alive_period_in_seconds=60)
    first = make_trainer("print('cold')", compute=keep)
    first.train(logs=False)
    name = first._latest_training_job.training_job_name  # type: ignore[union-attr]
    _wait_for(lambda: service.describe(name)["WarmPoolStatus"]["Status"] == "Available")
    time.sleep(0.5)
    for _ in range(3):
        _stop_at_once(make_trainer, service, keep)
