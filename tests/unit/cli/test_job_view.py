"""The training-job renderings of the CLI (``sageyard.cli._job_view``)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from rich.console import Console

from sageyard.cli import _job_view, _render
from sageyard.store import JobRecord
from tests.unit.cli.console import text_of

T0 = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)


def record(name: str, status: str, created: float, **document: object) -> JobRecord:
    return JobRecord(
        name=name,
        kind="TrainingJob",
        status=status,
        secondary_status=status,
        parent=None,
        created_at=created,
        updated_at=created,
        heartbeat_at=None,
        owner=None,
        document=dict(document),
    )


def test_job_duration() -> None:
    done = record("a", "Completed", 100.0, end_time=130.5, training_end_time=130.0)
    assert _job_view.job_duration(done, now=1000.0) == 30.5
    running = record("b", "InProgress", 100.0)
    assert _job_view.job_duration(running, now=160.0) == 60.0
    stopping = record("b", "Stopping", 100.0)
    assert _job_view.job_duration(stopping, now=110.0) == 10.0
    odd = record("c", "Failed", 100.0)  # ended without a recorded end time
    assert _job_view.job_duration(odd, now=1000.0) is None


def test_jobs_table_rows_in_order() -> None:
    metrics = [{"MetricName": "train:loss", "Value": 0.333, "Timestamp": 1.0}]
    records = [
        record("job-newer-2025", "InProgress", 200.0),
        record("job-older-2025", "Completed", 100.0, end_time=225.0, final_metrics=metrics),
    ]
    text = text_of(_job_view.jobs_table(records, now=260.0))
    lines = text.splitlines()
    assert lines[0].split() == [
        "Name",
        "Status",
        "Secondary",
        "status",
        "Created",
        "Duration",
        "Metrics",
    ]
    assert lines[1].split()[:3] == ["job-newer-2025", "InProgress", "InProgress"]
    assert lines[1].split()[-2:] == ["1m00s", "-"]
    assert lines[2].split()[-2:] == ["2m05s", "train:loss=0.333"]
    assert _render.local_time(100.0) in lines[2]


def test_jobs_table_of_a_servers_descriptions_shows_the_same_columns() -> None:
    """``sageyard jobs list`` through a server renders DescribeTrainingJob descriptions."""
    metrics = [{"MetricName": "train:loss", "Value": 0.333, "Timestamp": T0}]
    described = [
        {
            "TrainingJobName": "job-running",
            "TrainingJobStatus": "InProgress",
            "SecondaryStatus": "Training",
            "CreationTime": datetime.fromtimestamp(200.0, UTC),
        },
        {
            "TrainingJobName": "job-done",
            "TrainingJobStatus": "Completed",
            "SecondaryStatus": "Completed",
            "CreationTime": datetime.fromtimestamp(100.0, UTC),
            "TrainingEndTime": datetime.fromtimestamp(225.0, UTC),
            "FinalMetricDataList": metrics,
        },
    ]
    lines = text_of(_job_view.jobs_table(described, now=260.0)).splitlines()
    assert lines[1].split()[:3] == ["job-running", "InProgress", "Training"]
    assert lines[1].split()[-2:] == ["1m00s", "-"]
    assert lines[2].split()[-2:] == ["2m05s", "train:loss=0.333"]
    assert _render.local_time(100.0) in lines[2]


def test_jobs_table_keeps_long_names_whole_at_80_columns() -> None:
    name = "a-rather-long-base-job-name-2025-01-01-00-00-00-000"
    text = text_of(_job_view.jobs_table([record(name, "Completed", 1.0, end_time=2.0)], 3.0), 80)
    assert name in text


def description(**extra: object) -> dict[str, object]:
    return {
        "TrainingJobName": "my-job",
        "TrainingJobArn": "arn:aws:sagemaker:us-west-2:000000000000:training-job/my-job",
        "TrainingJobStatus": "Completed",
        "SecondaryStatus": "Completed",
        "AlgorithmSpecification": {"TrainingImage": "python:3.11", "TrainingInputMode": "File"},
        "ResourceConfig": {
            "InstanceType": "ml.m5.xlarge",
            "InstanceCount": 2,
            "VolumeSizeInGB": 30,
        },
        "HyperParameters": {"epochs": "2", "lr": "0.1"},
        "InputDataConfig": [
            {"ChannelName": "train", "DataSource": {"S3DataSource": {"S3Uri": "s3://b/train"}}},
            {"ChannelName": "test", "DataSource": "s3://b/test", "ContentType": "text/csv"},
        ],
        "OutputDataConfig": {"S3OutputPath": "s3://b/out"},
        "ModelArtifacts": {"S3ModelArtifacts": "s3://b/out/my-job/output/model.tar.gz"},
        "Environment": {"API_TOKEN": "********", "MODE": "fast"},
        "CreationTime": T0,
        "TrainingStartTime": T0 + timedelta(seconds=2),
        "TrainingEndTime": T0 + timedelta(seconds=92),
        "TrainingTimeInSeconds": 90,
        "FinalMetricDataList": [
            {"MetricName": "train:loss", "Value": 0.125, "Timestamp": T0 + timedelta(seconds=90)}
        ],
        "SecondaryStatusTransitions": [
            {
                "Status": "Training",
                "StartTime": T0 + timedelta(seconds=2),
                "EndTime": T0 + timedelta(seconds=92),
                "StatusMessage": "Training in progress.",
            },
            {
                "Status": "Completed",
                "StartTime": T0 + timedelta(seconds=92),
                "StatusMessage": "done",
            },
        ],
        **extra,
    }


def test_describe_view_sections() -> None:
    text = text_of(_job_view.describe_view(description()))
    assert text.splitlines()[0] == "my-job"
    for expected in (
        "Status            Completed",
        "Instances         2 x ml.m5.xlarge, 30 GB volume",
        "Training time     1m30s (90 s)",
        "Model artifacts   s3://b/out/my-job/output/model.tar.gz",
        f"Created           {_render.local_time(T0)}",
        "Hyperparameters",
        "lr      0.1",
        "API_TOKEN  ********",
        "train    s3://b/train  File",
        "test     s3://b/test   File        text/csv",
        "train:loss  0.125",
        "1m30s     Training in progress.",
    ):
        assert expected in text, expected
    assert "Failure reason" not in text
    assert "Warnings" not in text


def test_describe_view_failure_in_red_and_warnings() -> None:
    view = _job_view.describe_view(
        description(
            TrainingJobStatus="Failed",
            FailureReason="AlgorithmError: exit code 1",
            Warnings=["ml.p4d.24xlarge asked for 8 GPUs; running on the CPU"],
        )
    )
    console = Console(file=io.StringIO(), width=200, force_terminal=True, color_system="standard")
    console.print(view)
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert "\x1b[31mAlgorithmError: exit code 1" in out
    text = text_of(view)
    assert "Failure reason    AlgorithmError: exit code 1" in text
    assert "! ml.p4d.24xlarge asked for 8 GPUs; running on the CPU" in text


def test_describe_view_of_a_minimal_dict() -> None:
    text = text_of(
        _job_view.describe_view({"TrainingJobName": "bare", "TrainingJobStatus": "InProgress"})
    )
    assert text.split() == ["bare", "Status", "InProgress"]


def test_channel_source() -> None:
    assert _job_view.channel_source("s3://b/x") == "s3://b/x"
    assert (
        _job_view.channel_source({"FileSystemDataSource": {"DirectoryPath": "/fsx/d"}}) == "/fsx/d"
    )
    assert _job_view.channel_source(None) == "-"
    assert _job_view.channel_source({"Other": 1}) == '{"Other": 1}'


def test_describe_view_of_a_managed_spot_job_on_a_warm_pool() -> None:
    text = text_of(
        _job_view.describe_view(
            description(
                EnableManagedSpotTraining=True,
                TrainingTimeInSeconds=100,
                BillableTimeInSeconds=30,
                StoppingCondition={"MaxRuntimeInSeconds": 600, "MaxWaitTimeInSeconds": 1200},
                WarmPoolStatus={
                    "Status": "Reused",
                    "ReusedByJob": "next-job",
                    "ResourceRetainedBillableTimeInSeconds": 12,
                },
            )
        )
    )
    for expected in (
        "Managed spot savings",
        "70%",
        "Max wait time",
        "Reused by next-job (kept 12 s)",
    ):
        assert expected in text, expected
