"""``Session.sagemaker_client``: boto3's training and tuning operations, answered by the
job services with the real response shapes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sageyard.core.session import Session
from sageyard.core.settings import Settings
from sageyard.executors.scripted import Script, ScriptedExecutor
from sageyard.jobs.service import TrainingJobService
from sageyard.jobs.supervisor import Supervisor
from sageyard.train.sagemaker_client import SageMakerClient

ROLE = "arn:aws:iam::000000000000:role/SageMakerRole"


def _request(name: str, code: Path) -> dict[str, Any]:
    return {
        "TrainingJobName": name,
        "AlgorithmSpecification": {"TrainingImage": "pytorch-training:2.0-cpu-py310"},
        "RoleArn": ROLE,
        "OutputDataConfig": {"S3OutputPath": "s3://bucket/out"},
        "Sageyard": {"SourceCode": {"SourceDir": str(code), "EntryScript": "train.py"}},
    }


@pytest.fixture
def jobs(settings: Settings, tmp_path: Path) -> list[str]:
    """Three Completed jobs, created in this order, run on scripted hosts."""
    (tmp_path / "train.py").write_text("print(1)\n")
    service = TrainingJobService(settings, launcher=lambda settings, name, log: None)
    names = ["alpha", "beta", "gamma"]
    for name in names:
        service.create_training_job(_request(name, tmp_path))
        Supervisor(settings, name, executor=ScriptedExecutor(Script(), tmp_path / name)).run()
    return names


def test_the_session_has_one(settings: Settings) -> None:
    session = Session()
    assert isinstance(session.sagemaker_client, SageMakerClient)
    assert session.sagemaker_client is session.sagemaker_client
    assert session.sagemaker_client.meta.region_name == "us-west-2"
    given = object()
    assert Session(sagemaker_client=given).sagemaker_client is given


def test_describe_and_list_training_jobs(jobs: list[str]) -> None:
    client = Session().sagemaker_client
    described = client.describe_training_job(TrainingJobName="beta")
    assert (described["TrainingJobName"], described["TrainingJobStatus"]) == ("beta", "Completed")
    listed = client.list_training_jobs()["TrainingJobSummaries"]
    assert [s["TrainingJobName"] for s in listed] == ["gamma", "beta", "alpha"]
    assert set(listed[0]) >= {"TrainingJobName", "TrainingJobArn", "TrainingJobStatus"}
    by_name = client.list_training_jobs(SortBy="Name", SortOrder="Ascending", NameContains="a")
    assert [s["TrainingJobName"] for s in by_name["TrainingJobSummaries"]] == [
        "alpha",
        "beta",
        "gamma",
    ]
    first = client.list_training_jobs(MaxResults=2)
    assert len(first["TrainingJobSummaries"]) == 2 and first["NextToken"]
    rest = client.list_training_jobs(MaxResults=2, NextToken=first["NextToken"])
    assert [s["TrainingJobName"] for s in rest["TrainingJobSummaries"]] == ["alpha"]
    assert "NextToken" not in rest
    assert client.list_training_jobs(StatusEquals="InProgress")["TrainingJobSummaries"] == []


def test_missing_jobs_and_other_services_are_client_errors(jobs: list[str]) -> None:
    client = Session().sagemaker_client
    with pytest.raises(ClientError) as missing:
        client.describe_training_job(TrainingJobName="nope")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFound"
    with pytest.raises(ClientError, match="sageyard trains"):
        client.create_endpoint(EndpointName="e", EndpointConfigName="c")


def test_tuning_operations(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sageyard.tuning.service as tuning_service

    monkeypatch.setattr(tuning_service, "launch_supervisor", lambda *args, **kwargs: None)
    (tmp_path / "train.py").write_text("print(1)\n")
    training = _request("unused", tmp_path)
    training.pop("TrainingJobName")
    client = Session().sagemaker_client
    client.create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="tune-1",
        HyperParameterTuningJobConfig={
            "Strategy": "Random",
            "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "acc"},
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 2, "MaxParallelTrainingJobs": 1},
            "ParameterRanges": {
                "ContinuousParameterRanges": [{"Name": "lr", "MinValue": "0.1", "MaxValue": "1"}]
            },
        },
        TrainingJobDefinition={
            **{k: v for k, v in training.items() if k != "Sageyard"},
            "AlgorithmSpecification": {
                **training["AlgorithmSpecification"],
                "MetricDefinitions": [{"Name": "acc", "Regex": "acc=([0-9.]+)"}],
            },
            "StaticHyperParameters": {},
            "Sageyard": training["Sageyard"],
        },
    )
    described = client.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="tune-1")
    assert described["HyperParameterTuningJobStatus"] == "InProgress"
    (summary,) = client.list_hyper_parameter_tuning_jobs()["HyperParameterTuningJobSummaries"]
    assert (summary["HyperParameterTuningJobName"], summary["Strategy"]) == ("tune-1", "Random")
    trials = client.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="tune-1"
    )
    assert trials == {"TrainingJobSummaries": []}
    assert client.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName="tune-1") == {}


def test_the_list_filters_are_checked_as_the_servers_are(jobs: list[str]) -> None:
    """One implementation answers the session's client and ``sageyard server``: the same
    limits, filters and time forms (a datetime, epoch seconds, ISO 8601)."""
    from datetime import UTC, datetime

    client = Session().sagemaker_client
    with pytest.raises(ClientError, match="MaxResults must be an integer from 1 to 100"):
        client.list_training_jobs(MaxResults=500)
    with pytest.raises(ClientError, match="is not one this server gave"):
        client.list_training_jobs(NextToken="garbage")
    with pytest.raises(ClientError, match="status_equals"):
        client.list_training_jobs(StatusEquals="Running")
    past = datetime(2000, 1, 1, tzinfo=UTC)
    for after in (past, past.replace(tzinfo=None), past.timestamp(), past.isoformat()):
        listed = client.list_training_jobs(CreationTimeAfter=after)["TrainingJobSummaries"]
        assert [s["TrainingJobName"] for s in listed] == ["gamma", "beta", "alpha"]
    assert client.list_training_jobs(CreationTimeBefore=past)["TrainingJobSummaries"] == []
    assert client.list_training_jobs(WarmPoolStatusEquals="Available") == {
        "TrainingJobSummaries": []
    }
