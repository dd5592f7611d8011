"""The supervisor and its watch over scripted hosts: every ending of a job, in milliseconds.

Jobs are created through the service (its launcher does nothing), then one
:class:`Supervisor` runs in this process over a :class:`ScriptedExecutor`, so what is
checked is the supervisor's own handling: statuses, stop requests, max runtime, a failing
host, a host killed by a signal, retries, setup errors, capacity and the uploads.
"""

from __future__ import annotations

import dataclasses
import signal
import tarfile
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from sageyard.core.settings import Settings
from sageyard.executors.scripted import Script, ScriptedExecutor
from sageyard.jobs.service import TrainingJobService
from sageyard.jobs.supervisor import Supervisor
from sageyard.runtime.host import HostSetupError
from sageyard.storage import ObjectStore
from sageyard.store import JobRecord

OUTPUT = "s3://sagemaker-us-west-2-000000000000/out"


def _request(code_dir: Path, **changes: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "TrainingJobName": "job",
        "AlgorithmSpecification": {
            "TrainingImage": "pytorch-training:2.0-cpu-py310",
            "MetricDefinitions": [{"Name": "loss", "Regex": "loss=([0-9.]+)"}],
        },
        "RoleArn": "arn:aws:iam::000000000000:role/SageMakerRole",
        "OutputDataConfig": {"S3OutputPath": OUTPUT},
        "Sageyard": {"SourceCode": {"SourceDir": str(code_dir), "EntryScript": "train.py"}},
    }
    request.update(changes)
    return request


@pytest.fixture
def code_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "code"
    folder.mkdir()
    (folder / "train.py").write_text("print('never run: the hosts are scripted')\n")
    return folder


def _run(
    service: TrainingJobService,
    request: dict[str, Any],
    executor: ScriptedExecutor,
    settings: Settings | None = None,
) -> JobRecord:
    record = service.create_training_job(request)
    Supervisor(settings or service.settings, record.name, executor=executor).run()
    return service.get(record.name)


def _statuses(service: TrainingJobService, name: str) -> list[str]:
    return [event["Status"] for _, event in service.store.events(name)]


def test_a_job_whose_hosts_succeed_completes_with_its_metrics_and_model(
    service: TrainingJobService, code_dir: Path, objects: ObjectStore, tmp_path: Path
) -> None:
    executor = ScriptedExecutor(
        Script(lines=("loss=0.5", "loss=0.25"), model_files={"weights.txt": "w"}), tmp_path
    )
    job = _run(service, _request(code_dir), executor)
    assert (job.status, job.secondary_status) == ("Completed", "Completed")
    assert _statuses(service, "job") == [
        "Starting",
        "Downloading",
        "Training",
        "Uploading",
        "Completed",
    ]
    assert [p.value for p in service.store.metrics("job")] == [0.5, 0.25]
    assert executor.closed and all(host.finished for host in executor.hosts)
    archive = tmp_path / "model.tar.gz"
    objects.get_file(f"{OUTPUT}/job/output/model.tar.gz", archive)
    with tarfile.open(archive) as tar:
        assert tar.getnames() == ["weights.txt"]


def test_a_stop_request_ends_the_hosts_with_sigterm(
    service: TrainingJobService, code_dir: Path, tmp_path: Path
) -> None:
    executor = ScriptedExecutor(Script(seconds=60), tmp_path)

    def stop_once_training() -> None:  # however long the job's creation takes here
        deadline = time.time() + 30
        while time.time() < deadline:
            record = service.store.get("job")
            if record is not None and record.secondary_status == "Training":
                service.stop("job")
                return
            time.sleep(0.02)

    stopper = threading.Thread(target=stop_once_training)
    stopper.start()
    began = time.time()
    job = _run(service, _request(code_dir), executor)
    stopper.join()
    assert (job.status, job.secondary_status) == ("Stopped", "Stopped")
    assert "Stopping" in _statuses(service, "job")
    assert executor.hosts[0].signals == [signal.SIGTERM]
    assert time.time() - began < 5


def test_a_host_that_ignores_sigterm_gets_sigkill_after_the_grace(
    service: TrainingJobService, code_dir: Path, tmp_path: Path
) -> None:
    settings = dataclasses.replace(service.settings, stop_grace_seconds=0)
    executor = ScriptedExecutor(Script(seconds=60, on_sigterm=None), tmp_path)
    request = _request(code_dir, StoppingCondition={"MaxRuntimeInSeconds": 1})
    job = _run(service, request, executor, settings)
    assert (job.status, job.secondary_status) == ("Stopped", "MaxRuntimeExceeded")
    assert executor.hosts[0].signals == [signal.SIGTERM, signal.SIGKILL]


def test_max_runtime_stops_the_job(
    service: TrainingJobService, code_dir: Path, tmp_path: Path
) -> None:
    executor = ScriptedExecutor(Script(seconds=60), tmp_path)
    request = _request(code_dir, StoppingCondition={"MaxRuntimeInSeconds": 1})
    job = _run(service, request, executor)
    assert (job.status, job.secondary_status) == ("Stopped", "MaxRuntimeExceeded")
    assert "MaxRuntimeExceeded" in _statuses(service, "job")


def test_one_failing_host_ends_the_others_and_gives_the_reason(
    service: TrainingJobService, code_dir: Path, tmp_path: Path
) -> None:
    scripts = {
        "algo-1": Script(seconds=60),
        "algo-2": Script(code=3, failure_text="AlgorithmError: bad shard"),
    }
    executor = ScriptedExecutor(scripts, tmp_path)
    request = _request(
        code_dir,
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 2, "VolumeSizeInGB": 30},
    )
    job = _run(service, request, executor)
    assert (job.status, job.document["failure_reason"]) == (
        "Failed",
        "AlgorithmError: bad shard",
    )
    assert executor.hosts[0].signals == [signal.SIGTERM]


def test_a_host_killed_by_a_signal_is_an_internal_error(
    service: TrainingJobService, code_dir: Path, tmp_path: Path
) -> None:
    executor = ScriptedExecutor(Script(code=-signal.SIGKILL), tmp_path)
    job = _run(service, _request(code_dir), executor)
    assert job.status == "Failed"
    assert job.document["failure_reason"].startswith(
        "InternalServerError: host algo-1 was killed by signal 9 (SIGKILL)"
    )


def test_retry_strategy_runs_the_job_again_after_an_infrastructure_failure(
    service: TrainingJobService, code_dir: Path, tmp_path: Path
) -> None:
    executor = ScriptedExecutor({"algo-1": [Script(code=-signal.SIGKILL), Script()]}, tmp_path)
    request = _request(code_dir, RetryStrategy={"MaximumRetryAttempts": 1})
    job = _run(service, request, executor)
    assert job.status == "Completed"
    assert len(executor.hosts) == 2
    assert "Restarting" in _statuses(service, "job")


def test_each_retry_is_a_restarting_transition_that_names_the_attempt_and_why(
    service: TrainingJobService, code_dir: Path, tmp_path: Path
) -> None:
    error = HostSetupError(
        "InternalServerError: the sandbox of algo-1 could not start: x", retryable=True
    )
    executor = ScriptedExecutor(
        {"algo-1": [Script(setup_error=error), Script(code=-signal.SIGKILL), Script()]}, tmp_path
    )
    job = _run(service, _request(code_dir, RetryStrategy={"MaximumRetryAttempts": 2}), executor)
    assert job.status == "Completed"
    restarts = [e for _, e in service.store.events("job") if e["Status"] == "Restarting"]
    assert [e["StatusMessage"].split(" (")[0] for e in restarts] == [
        "Attempt 2 of 3",
        "Attempt 3 of 3",
    ]
    assert "the sandbox of algo-1 could not start" in restarts[0]["StatusMessage"]
    assert "killed by signal 9" in restarts[1]["StatusMessage"]


def test_a_host_the_out_of_memory_killer_ended_is_retried_and_named(
    service: TrainingJobService, code_dir: Path, tmp_path: Path
) -> None:
    oom = Script(code=-signal.SIGKILL, out_of_memory=True)
    executor = ScriptedExecutor({"algo-1": [oom, oom]}, tmp_path)
    job = _run(service, _request(code_dir, RetryStrategy={"MaximumRetryAttempts": 1}), executor)
    assert job.status == "Failed"
    assert len(executor.hosts) == 2
    assert job.document["failure_reason"].startswith(
        "InternalServerError: host algo-1 ran out of memory"
    )


def test_a_script_error_is_not_retried(
    service: TrainingJobService, code_dir: Path, tmp_path: Path
) -> None:
    executor = ScriptedExecutor({"algo-1": [Script(code=1), Script()]}, tmp_path)
    request = _request(code_dir, RetryStrategy={"MaximumRetryAttempts": 2})
    job = _run(service, request, executor)
    assert job.status == "Failed"
    assert len(executor.hosts) == 1


def test_a_host_that_cannot_be_set_up_fails_the_job_with_its_reason(
    service: TrainingJobService, code_dir: Path, tmp_path: Path
) -> None:
    error = HostSetupError("ClientError: requirements file x.txt is missing", retryable=False)
    executor = ScriptedExecutor(Script(setup_error=error), tmp_path)
    request = _request(code_dir, RetryStrategy={"MaximumRetryAttempts": 2})
    job = _run(service, request, executor)
    assert (job.status, job.document["failure_reason"]) == ("Failed", error.reason)
    assert "Training" not in _statuses(service, "job")


def test_a_second_host_that_cannot_be_set_up_ends_the_first(
    service: TrainingJobService, code_dir: Path, tmp_path: Path
) -> None:
    error = HostSetupError("InternalServerError: disk full", retryable=False)
    scripts = {"algo-1": Script(seconds=60), "algo-2": Script(setup_error=error)}
    executor = ScriptedExecutor(scripts, tmp_path)
    request = _request(
        code_dir,
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 2, "VolumeSizeInGB": 30},
    )
    job = _run(service, request, executor)
    assert job.document["failure_reason"] == error.reason
    assert executor.hosts[0].signals == [signal.SIGKILL]


def test_no_capacity_within_max_pending_time_stops_the_job(
    service: TrainingJobService, code_dir: Path, tmp_path: Path
) -> None:
    executor = ScriptedExecutor(Script(), tmp_path, capacity_after=None)
    request = _request(code_dir, StoppingCondition={"MaxPendingTimeInSeconds": 1})
    job = _run(service, request, executor)
    assert (job.status, job.secondary_status) == ("Stopped", "Stopped")
    assert "failure_reason" not in job.document
    assert _statuses(service, "job")[-3:] == ["Pending", "Stopping", "Stopped"]
    messages = [payload["StatusMessage"] for _, payload in service.store.events("job")]
    assert any("no capacity within MaxPendingTimeInSeconds (1 s)" in m for m in messages)
    assert executor.hosts == [] and executor.closed


def test_warnings_found_at_creation_reach_describe_and_the_log(
    service: TrainingJobService,
    code_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'no-docker.sock'}")
    request = _request(code_dir)
    request["Sageyard"]["Executor"] = "container"  # no Docker here: processes, with a warning
    job = _run(service, request, ScriptedExecutor(Script(), tmp_path))
    assert job.status == "Completed"
    (warning,) = service.describe(job.name)["Warnings"]
    assert "no Docker engine answers" in warning
    assert "no Docker engine answers" in service.paths(job.name).log("algo-1").read_text()


def test_an_error_of_the_supervisor_ends_the_hosts_it_started(
    service: TrainingJobService,
    code_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sageyard.jobs import watch

    def broken(self: watch.Watch) -> None:
        raise RuntimeError("the store is gone")

    monkeypatch.setattr(watch.Watch, "_flush", broken)
    executor = ScriptedExecutor(Script(lines=("loss=0.5",), seconds=60), tmp_path)
    job = _run(service, _request(code_dir), executor)
    assert (job.status, job.document["failure_reason"]) == (
        "Failed",
        "InternalServerError: the store is gone",
    )
    assert executor.hosts[0].signals == [signal.SIGKILL]  # no host outlives the supervisor


def test_a_job_settled_elsewhere_ends_its_hosts_and_stays_as_it_was_settled(
    service: TrainingJobService, code_dir: Path, tmp_path: Path
) -> None:
    executor = ScriptedExecutor(Script(seconds=60), tmp_path)
    settle = threading.Timer(
        0.2,
        lambda: service.store.update(
            "job", status="Failed", document_patch={"failure_reason": "declared dead"}
        ),
    )
    settle.start()
    job = _run(service, _request(code_dir), executor)
    settle.join()
    assert (job.status, job.document["failure_reason"]) == ("Failed", "declared dead")
    assert executor.hosts[0].signals == [signal.SIGTERM]
