"""``sagemaker.core.resources.TrainingJob``: the real resource's attributes, get and get_all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sageyard.core.resources import TrainingJob
from sageyard.core.session import Session
from sageyard.core.settings import Settings
from sageyard.executors.scripted import Script, ScriptedExecutor
from sageyard.jobs.resource import TRAINING_JOB_FIELDS
from sageyard.jobs.service import TrainingJobService
from sageyard.jobs.supervisor import Supervisor


def _completed_job(settings: Settings, tmp_path: Path, name: str) -> None:
    (tmp_path / "train.py").write_text("print(1)\n")
    service = TrainingJobService(settings, launcher=lambda settings, name, log: None)
    service.create_training_job(
        {
            "TrainingJobName": name,
            "AlgorithmSpecification": {"TrainingImage": "pytorch-training:2.0-cpu-py310"},
            "RoleArn": "arn:aws:iam::000000000000:role/SageMakerRole",
            "OutputDataConfig": {"S3OutputPath": "s3://bucket/out"},
            "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1},
            "Sageyard": {"SourceCode": {"SourceDir": str(tmp_path), "EntryScript": "train.py"}},
        }
    )
    Supervisor(settings, name, executor=ScriptedExecutor(Script(), tmp_path / name)).run()


def test_every_attribute_of_the_real_resource(settings: Settings, tmp_path: Path) -> None:
    _completed_job(settings, tmp_path, "job-a")
    job = TrainingJob.get("job-a", session=Session())
    for field in TRAINING_JOB_FIELDS:
        assert hasattr(job, field), field
    assert job.training_job_status == "Completed"
    assert job.resource_config.instance_type == "ml.m5.xlarge"  # type: ignore[attr-defined]
    assert job.resource_config["InstanceCount"] == 1  # type: ignore[attr-defined]
    assert job.stopping_condition.max_runtime_in_seconds == 86400  # type: ignore[attr-defined]
    assert job.algorithm_specification.training_image == "pytorch-training:2.0-cpu-py310"  # type: ignore[attr-defined]
    assert (job.tuning_job_arn, job.warm_pool_status) == (None, None)  # type: ignore[attr-defined]


def test_get_all_filters_and_orders(settings: Settings, tmp_path: Path) -> None:
    for name in ("job-a", "job-b", "other"):
        _completed_job(settings, tmp_path, name)
    assert [j.training_job_name for j in TrainingJob.get_all()] == ["other", "job-b", "job-a"]
    ascending = TrainingJob.get_all(name_contains="job", sort_order="Ascending")
    assert [j.training_job_name for j in ascending] == ["job-a", "job-b"]
    assert list(TrainingJob.get_all(status_equals="InProgress")) == []
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert list(TrainingJob.get_all(creation_time_after=later)) == []
