"""``sagemaker.core.resources.TrainingJob``: the real resource's attributes, constructor,
get/get_all filters, update and delete (jobs run by the scripted executor, in-process)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from sageyard.core.exceptions import ConfigurationError, ResourceNotFound, TimeoutExceededError
from sageyard.core.resources import TrainingJob
from sageyard.core.session import Session
from sageyard.core.settings import Settings
from sageyard.executors.scripted import Script, ScriptedExecutor
from sageyard.jobs.liveness import owner_token
from sageyard.jobs.resource import TRAINING_JOB_FIELDS, MetricData, ModelArtifacts
from sageyard.jobs.service import TrainingJobService
from sageyard.jobs.supervisor import Supervisor
from sageyard.storage import object_store_for

ROLE = "arn:aws:iam::000000000000:role/SageMakerRole"


def _request(tmp_path: Path, name: str) -> dict[str, object]:
    code = tmp_path / "code"
    code.mkdir(exist_ok=True)
    (code / "train.py").write_text("print(1)\n")
    return {
        "TrainingJobName": name,
        "AlgorithmSpecification": {
            "TrainingImage": "pytorch-training:2.0-cpu-py310",
            "MetricDefinitions": [{"Name": "loss", "Regex": "loss=([0-9.]+)"}],
        },
        "RoleArn": ROLE,
        "OutputDataConfig": {"S3OutputPath": "s3://bucket/out"},
        "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1},
        "Sageyard": {"SourceCode": {"SourceDir": str(code), "EntryScript": "train.py"}},
    }


def _unstarted_job(settings: Settings, tmp_path: Path, name: str) -> TrainingJobService:
    service = TrainingJobService(settings, launcher=lambda settings, name, log: None)
    service.create_training_job(_request(tmp_path, name))
    return service


def _completed_job(settings: Settings, tmp_path: Path, name: str, code: int = 0) -> None:
    _unstarted_job(settings, tmp_path, name)
    script = Script(lines=("loss=0.5",), code=code)
    Supervisor(settings, name, executor=ScriptedExecutor(script, tmp_path / name)).run()


def test_every_attribute_of_the_real_resource(settings: Settings, tmp_path: Path) -> None:
    _completed_job(settings, tmp_path, "job-a")
    job = TrainingJob.get("job-a", session=Session())
    for field in TRAINING_JOB_FIELDS:
        assert hasattr(job, field), field
    assert job.training_job_status == "Completed"
    assert job.get_name() == "job-a"
    assert job.resource_config.instance_type == "ml.m5.xlarge"  # type: ignore[attr-defined]
    assert job.resource_config["InstanceCount"] == 1  # type: ignore[attr-defined]
    assert job.stopping_condition.max_runtime_in_seconds == 86400  # type: ignore[attr-defined]
    assert job.algorithm_specification.training_image == "pytorch-training:2.0-cpu-py310"  # type: ignore[attr-defined]
    assert (job.tuning_job_arn, job.warm_pool_status) == (None, None)  # type: ignore[attr-defined]
    assert [(m.metric_name, m.value) for m in job.final_metric_data_list] == [("loss", 0.5)]


def test_every_field_is_a_keyword_of_the_constructor(settings: Settings, tmp_path: Path) -> None:
    fields = {name: None for name in TRAINING_JOB_FIELDS if name != "training_job_name"}
    assert TrainingJob(training_job_name="x", **fields).training_job_status is None
    job = TrainingJob(
        training_job_name="job-a",
        training_job_status="Completed",
        model_artifacts={"s3_model_artifacts": "s3://b/model.tar.gz"},
        final_metric_data_list=[{"metric_name": "loss", "value": 0.25}],
        resource_config={"instance_type": "ml.m5.xlarge", "instance_count": 2},
        hyper_parameters={"epochs": "3"},
    )
    assert job.model_artifacts == ModelArtifacts("s3://b/model.tar.gz")
    assert job.final_metric_data_list == [MetricData("loss", 0.25)]
    assert job.resource_config.instance_count == 2  # type: ignore[attr-defined]
    assert (job.hyper_parameters, job.failure_reason, job.vpc_config) == (
        {"epochs": "3"},
        None,
        None,
    )  # type: ignore[attr-defined]
    with pytest.raises(ConfigurationError, match=r"no field\(s\) \['training_job_stats'\]"):
        TrainingJob(training_job_name="x", training_job_stats="Completed")
    # a handle made by name reads the job on refresh(), as the real resource's does
    _completed_job(settings, tmp_path, "job-b")
    assert TrainingJob(training_job_name="job-b").refresh().training_job_status == "Completed"


def test_a_bad_create_request_writes_nothing(settings: Settings) -> None:
    service = TrainingJobService(settings)
    with pytest.raises(ValueError, match="S3OutputPath is required"):
        TrainingJob.create(
            "job-a",
            role_arn=ROLE,
            output_data_config={"kms_key_id": "k"},
            algorithm_specification={"training_image": "sagemaker-xgboost:1.7-1"},
        )
    with pytest.raises(ValueError, match=r"unknown field\(s\) \['DebugHookConfig'\]"):
        TrainingJob.create(
            "job-a",
            role_arn=ROLE,
            output_data_config={"s3_output_path": "s3://b/out"},
            algorithm_specification={"training_image": "sagemaker-xgboost:1.7-1"},
            debug_hook_config={"s3_output_path": "s3://b/debug"},
        )
    assert service.list_jobs() == []


def test_get_all_filters_and_orders(settings: Settings, tmp_path: Path) -> None:
    for name in ("job-a", "job-b", "other"):
        _completed_job(settings, tmp_path, name)
    _completed_job(settings, tmp_path, "broken", code=1)
    names = lambda jobs: [j.training_job_name for j in jobs]  # noqa: E731
    assert names(TrainingJob.get_all()) == ["broken", "other", "job-b", "job-a"]
    ascending = TrainingJob.get_all(name_contains="job", sort_order="Ascending")
    assert names(ascending) == ["job-a", "job-b"]
    assert names(TrainingJob.get_all(sort_by="Name")) == ["broken", "job-a", "job-b", "other"]
    by_status = TrainingJob.get_all(sort_by="Status", sort_order="Descending")
    assert names(by_status) == ["broken", "other", "job-b", "job-a"]  # Failed > Completed
    assert names(TrainingJob.get_all(status_equals="Failed")) == ["broken"]
    assert list(TrainingJob.get_all(status_equals="InProgress")) == []

    jobs = {j.training_job_name: j for j in TrainingJob.get_all()}
    middle = jobs["job-b"].creation_time
    assert middle is not None
    assert names(TrainingJob.get_all(creation_time_before=middle)) == ["job-a"]
    assert names(TrainingJob.get_all(creation_time_after=middle)) == ["broken", "other"]
    naive = middle.astimezone(UTC).replace(tzinfo=None)  # naive is UTC, as botocore sends it
    assert names(TrainingJob.get_all(creation_time_after=naive)) == ["broken", "other"]
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert list(TrainingJob.get_all(creation_time_after=later)) == []
    assert list(TrainingJob.get_all(last_modified_time_after=later)) == []
    assert len(list(TrainingJob.get_all(last_modified_time_before=later))) == 4

    # no job has a warm pool or a training plan here: those filters match none
    assert list(TrainingJob.get_all(warm_pool_status_equals="Available")) == []
    assert list(TrainingJob.get_all(training_plan_arn_equals="arn:aws:sagemaker:x")) == []
    for bad in ({"status_equals": "Done"}, {"sort_by": "Size"}, {"sort_order": "Up"}):
        with pytest.raises(ConfigurationError, match="must be one of"):
            TrainingJob.get_all(**bad)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="warm_pool_status_equals must be one of"):
        TrainingJob.get_all(warm_pool_status_equals="Warm")
    with pytest.raises(ConfigurationError, match="must be a datetime"):
        TrainingJob.get_all(creation_time_after="yesterday")  # type: ignore[arg-type]


def test_delete_forgets_an_ended_job_and_frees_its_name(settings: Settings, tmp_path: Path) -> None:
    _completed_job(settings, tmp_path, "job-a")
    job = TrainingJob.get("job-a")
    service = TrainingJobService(settings)
    objects = object_store_for(settings)
    code = service.get("job-a").document["spec"]["code_uri"]
    log = service.paths("job-a").log("algo-1")  # what a local host writes there
    log.parent.mkdir(parents=True)
    log.write_text("loss=0.5\n")
    assert objects.list(code + "/") == [f"{code}/train.py"]
    assert job.model_artifacts is not None
    artifact = job.model_artifacts.s3_model_artifacts
    job.delete()
    job.wait_for_delete(poll=0.01, timeout=1)
    with pytest.raises(ResourceNotFound):
        TrainingJob.get("job-a")
    assert service.store.metrics("job-a") == [] and service.store.events("job-a") == []
    assert not service.paths("job-a").root.exists()
    assert objects.list(code + "/") == []  # sageyard's copy of the code
    assert objects.exists(artifact)  # what the job wrote stays, as on SageMaker
    with pytest.raises(ClientError) as missing:
        job.delete()
    assert missing.value.response["Error"]["Code"] == "ResourceNotFound"

    # the name is free: a new job of that name has its own history only
    _completed_job(settings, tmp_path, "job-a")
    again = TrainingJob.get("job-a")
    assert [t.status for t in again.secondary_status_transitions].count("Starting") == 1
    assert len(again.metrics()) == 1


def test_delete_refuses_a_running_job(settings: Settings, tmp_path: Path) -> None:
    _unstarted_job(settings, tmp_path, "job-a")
    job = TrainingJob.get("job-a")
    with pytest.raises(ClientError, match="only a Completed, Failed or Stopped job") as busy:
        job.delete()
    assert busy.value.response["Error"]["Code"] == "ResourceInUse"
    assert TrainingJob.get("job-a").training_job_status == "InProgress"
    with pytest.raises(TimeoutExceededError):
        job.wait_for_delete(poll=0.01, timeout=0.05)


def test_update_records_remote_debug_while_training_and_refuses_the_rest(
    settings: Settings, tmp_path: Path
) -> None:
    service = _unstarted_job(settings, tmp_path, "job-a")
    job = TrainingJob.get("job-a")
    with pytest.raises(ClientError, match="only while it is Downloading or Training") as early:
        job.update(remote_debug_config={"enable_remote_debug": True})
    assert early.value.response["Error"]["Code"] == "ValidationException"

    service.store.update(
        "job-a", owner=owner_token(), heartbeat_at=time.time(), secondary_status="Training"
    )
    updated = job.update(remote_debug_config={"enable_remote_debug": True})
    assert updated.remote_debug_config.enable_remote_debug is True  # type: ignore[attr-defined]
    assert TrainingJob.get("job-a").describe()["RemoteDebugConfig"] == {"EnableRemoteDebug": True}

    with pytest.raises(ConfigurationError, match="SageMaker Debugger profiling"):
        job.update(profiler_config={"profiling_interval_in_milliseconds": 500})
    with pytest.raises(ClientError, match="no Available warm pool") as no_pool:
        job.update(resource_config={"keep_alive_period_in_seconds": 60})
    assert no_pool.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ConfigurationError, match="from 0 to 3600"):
        job.update(resource_config={"keep_alive_period_in_seconds": 4000})
    with pytest.raises(ConfigurationError, match="unknown field"):
        job.update(resource_config={"instance_count": 2})
    with pytest.raises(ConfigurationError, match="True or False"):
        job.update(remote_debug_config={"enable_remote_debug": "yes"})
