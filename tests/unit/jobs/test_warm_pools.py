"""Warm pools (``jobs/warm_pools.py``): a finished job's capacity kept for the next job
that matches it, with each job's WarmPoolStatus as SageMaker reports it."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from sageyard.executors.scripted import Script, ScriptedExecutor
from sageyard.jobs.service import TrainingJobService
from sageyard.jobs.supervisor import Supervisor
from sageyard.jobs.warm_pools import KIND, WarmPool, claim, pool_key
from tests.unit.jobs.test_supervisor import _request


def _warm(code_dir: Path, name: str, keep_alive: int = 1, **resources: Any) -> dict[str, Any]:
    config = {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 30}
    config.update(resources)
    if keep_alive:
        config["KeepAlivePeriodInSeconds"] = keep_alive
    return _request(code_dir, TrainingJobName=name, ResourceConfig=config)


def _wait_for(check: Any, seconds: float = 10.0) -> None:
    deadline = time.time() + seconds
    while not check():
        assert time.time() < deadline, "condition not met in time"
        time.sleep(0.01)


def _keeper(service: TrainingJobService, name: str, executor: ScriptedExecutor) -> threading.Thread:
    """Run job ``name``'s supervisor (and then its pool's keeper) in a thread."""
    thread = threading.Thread(
        target=Supervisor(service.settings, name, executor=executor).run, daemon=True
    )
    thread.start()
    return thread


def test_a_matching_job_runs_on_the_pool_and_each_job_says_where_its_pool_stands(
    service: TrainingJobService, code_dir: Path, tmp_path: Path
) -> None:
    executor = ScriptedExecutor(Script(), tmp_path)
    service.create_training_job(_warm(code_dir, "first"))
    assert service.describe("first")["WarmPoolStatus"] == {"Status": "InUse"}
    keeper = _keeper(service, "first", executor)
    _wait_for(lambda: service.describe("first")["WarmPoolStatus"]["Status"] == "Available")
    assert service.get("first").status == "Completed"
    time.sleep(0.2)
    service.create_training_job(_warm(code_dir, "second"))  # claims the pool: no supervisor
    _wait_for(lambda: service.get("second").status == "Completed")
    assert executor.jobs == ["second"]  # the same executor, its capacity held
    first = service.describe("first")["WarmPoolStatus"]
    assert first["Status"] == "Reused" and first["ReusedByJob"] == "second"
    assert first["ResourceRetainedBillableTimeInSeconds"] >= 0
    _wait_for(lambda: service.describe("second")["WarmPoolStatus"]["Status"] == "Available")
    keeper.join(timeout=10)  # the period runs out: the keeper ends, the capacity is given back
    assert not keeper.is_alive()
    assert executor.closed
    second = service.describe("second")["WarmPoolStatus"]
    assert second["Status"] == "Terminated"
    assert second["ResourceRetainedBillableTimeInSeconds"] == 1
    pools = service.store.list(KIND)
    assert [p.status for p in pools] == ["Terminated"]


def test_the_pool_is_available_before_the_jobs_end_is_written(
    service: TrainingJobService, code_dir: Path, tmp_path: Path
) -> None:
    # so a job created the moment the last one is seen ended (a tuning job's next trial,
    # woken by the doorbell) finds the pool instead of starting cold
    executor = ScriptedExecutor(Script(), tmp_path)
    service.create_training_job(_warm(code_dir, "first", keep_alive=2))
    keeper = _keeper(service, "first", executor)
    _wait_for(lambda: service.get("first").status == "Completed")
    (pool,) = service.store.list(KIND)
    assert pool.status == "Available"
    ended = service.get("first")
    assert pool.updated_at <= ended.document["end_time"]
    assert ended.document["warm_pool"]["Status"] == "Available"
    assert ended.document["warm_pool"]["since"] == pytest.approx(pool.document["until"] - 2)
    keeper.join(timeout=10)


def test_a_job_that_fails_before_it_trains_still_marks_the_pool_reused(
    service: TrainingJobService, code_dir: Path, tmp_path: Path
) -> None:
    from sageyard.executors import HostSetupError

    broken = Script(setup_error=HostSetupError("ClientError: no such package", retryable=False))
    executor = ScriptedExecutor(
        lambda plan: broken if plan.job_name == "second" else Script(), tmp_path
    )
    service.create_training_job(_warm(code_dir, "first", keep_alive=2))
    keeper = _keeper(service, "first", executor)
    _wait_for(lambda: service.describe("first")["WarmPoolStatus"]["Status"] == "Available")
    service.create_training_job(_warm(code_dir, "second", keep_alive=2))
    _wait_for(lambda: service.get("second").status == "Failed")
    _wait_for(lambda: service.describe("first")["WarmPoolStatus"]["Status"] == "Reused")
    assert service.describe("first")["WarmPoolStatus"]["ReusedByJob"] == "second"
    keeper.join(timeout=10)


def test_a_job_that_does_not_match_gets_a_supervisor_of_its_own(
    service: TrainingJobService, code_dir: Path, tmp_path: Path
) -> None:
    launched: list[str] = []
    service.launcher = lambda settings, name, log: launched.append(name)
    executor = ScriptedExecutor(Script(), tmp_path)
    service.create_training_job(_warm(code_dir, "first", keep_alive=2))
    keeper = _keeper(service, "first", executor)
    _wait_for(lambda: service.describe("first")["WarmPoolStatus"]["Status"] == "Available")
    service.create_training_job(_warm(code_dir, "bigger", InstanceType="ml.m5.xlarge"))
    service.create_training_job(_warm(code_dir, "no-keep-alive", keep_alive=0))
    assert launched == ["first", "bigger", "no-keep-alive"]
    assert "WarmPoolStatus" not in service.describe("no-keep-alive")
    assert executor.jobs == []
    keeper.join(timeout=10)
    assert service.describe("first")["WarmPoolStatus"]["Status"] == "Terminated"


def _offered(service: TrainingJobService, code_dir: Path) -> tuple[Any, WarmPool]:
    """Job ``first``, created, and a pool offered after it (with no keeper thread)."""
    spec = service.validate_training_job(_warm(code_dir, "first"))
    service.create_training_job(_warm(code_dir, "first"))
    pool = WarmPool(service.store, service.settings, pool_key(spec, service.settings), "first")
    pool.offer("first", 60)  # its keeper writes the job's status with the job's end:
    service.store.update("first", document_patch={"warm_pool": {"Status": "Available"}})
    return spec, pool


def test_a_pool_whose_keeper_died_is_terminated_and_not_used(
    service: TrainingJobService, code_dir: Path
) -> None:
    spec, pool = _offered(service, code_dir)
    pool.close()  # as if its keeper died: nobody reads the FIFO
    assert not claim(service.store, service.settings, spec, "second")
    assert [p.status for p in service.store.list(KIND)] == ["Terminated"]


def test_a_job_that_failed_with_an_infrastructure_error_keeps_no_pool(
    service: TrainingJobService, code_dir: Path, tmp_path: Path
) -> None:
    import signal

    executor = ScriptedExecutor(Script(code=-signal.SIGKILL), tmp_path)
    service.create_training_job(_warm(code_dir, "first", keep_alive=60))
    Supervisor(service.settings, "first", executor=executor).run()  # returns: no keeper
    assert executor.closed
    assert service.describe("first")["WarmPoolStatus"] == {
        "Status": "Terminated",
        "ResourceRetainedBillableTimeInSeconds": 0,
    }


def test_describe_ends_an_available_pool_whose_keeper_died(
    service: TrainingJobService, code_dir: Path
) -> None:
    _, pool = _offered(service, code_dir)
    assert service.describe("first")["WarmPoolStatus"]["Status"] == "Available"
    host = service.store.get(pool.name).owner.split(":")[0]  # type: ignore[union-attr]
    service.store.update(pool.name, owner=f"{host}:999999999:0")  # a keeper that is gone
    assert service.describe("first")["WarmPoolStatus"]["Status"] == "Terminated"
    assert [p.status for p in service.store.list(KIND)] == ["Terminated"]
    pool.close()


def test_a_job_claiming_a_pool_while_it_is_first_offered_is_never_lost(
    service: TrainingJobService, code_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the race once seen on a Ray cluster: a claim between the pool row's creation and its
    # offer, which then wrote the row back to Available, so that the job was never run
    spec = service.validate_training_job(_warm(code_dir, "first"))
    service.create_training_job(_warm(code_dir, "first"))
    pool = WarmPool(service.store, service.settings, pool_key(spec, service.settings), "first")
    claimed: list[bool] = []
    create = service.store.create

    def create_then_claim(record: Any) -> Any:
        made = create(record)
        claimed.append(claim(service.store, service.settings, spec, "racing"))
        return made

    monkeypatch.setattr(service.store, "create", create_then_claim)
    pool.offer("first", 60)
    assert claimed == [False]  # not claimable before it is offered: "racing" runs elsewhere
    (row,) = service.store.list(KIND)
    assert (row.status, row.document["job"]) == ("Available", "first")
    pool.close()


def test_every_job_the_fifo_brings_is_run_in_order(
    service: TrainingJobService, code_dir: Path
) -> None:
    from sageyard.jobs.warm_pools import _wake

    _, pool = _offered(service, code_dir)
    assert _wake(pool.fifo, "second") and _wake(pool.fifo, "third")  # one read brings both
    assert [pool.wait(), pool.wait()] == ["second", "third"]
    pool.close()
