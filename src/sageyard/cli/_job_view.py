"""Rich renderings of training jobs: the ``sageyard jobs list`` table and the
``sageyard jobs describe`` view.

Pure, like :mod:`sageyard.cli._render`, whose helpers it builds on.

Example:
    >>> channel_source({"S3DataSource": {"S3Uri": "s3://b/train"}})
    's3://b/train'
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from sageyard.cli._render import (
    NONE,
    fields,
    format_duration,
    format_metrics,
    format_seconds,
    format_value,
    local_time,
    optional_time,
    section,
    simple_table,
    status_text,
)

if TYPE_CHECKING:
    from sageyard.store import JobRecord

_ACTIVE = frozenset({"InProgress", "Stopping"})


def job_duration(record: JobRecord, now: float) -> float | None:
    """Wall time from creation to the job's end, or to ``now`` while it is still active."""
    doc = record.document
    end = doc.get("end_time") or doc.get("training_end_time")
    if end is None:
        end = now if record.status in _ACTIVE else None
    return None if end is None else end - record.created_at


def jobs_table(jobs: Sequence[JobRecord | Mapping[str, Any]], now: float) -> Table:
    """The ``sageyard jobs list`` table, one row per job, in the given order: job records
    of this machine's store, or DescribeTrainingJob descriptions (a server's jobs)."""
    rows = [_row(job, now) for job in jobs]
    table = Table(box=None, header_style="bold", pad_edge=False)
    # Names stay whole (they are copied into other commands); other columns wrap if narrow.
    table.add_column("Name", no_wrap=True, min_width=max((len(r[0]) for r in rows), default=4))
    table.add_column("Status", no_wrap=True)
    table.add_column("Secondary status")
    table.add_column("Created", no_wrap=True)
    table.add_column("Duration", justify="right", no_wrap=True)
    table.add_column("Metrics", min_width=12, overflow="fold")
    for name, status, secondary, created, duration, metrics in rows:
        table.add_row(
            name,
            status_text(status),
            secondary or NONE,
            local_time(created),
            format_duration(duration),
            format_metrics(metrics, sep="\n"),
        )
    return table


def _row(job: JobRecord | Mapping[str, Any], now: float) -> tuple[Any, ...]:
    """Name, status, secondary status, creation time, duration, final metrics."""
    if not isinstance(job, Mapping):
        duration = job_duration(job, now)
        metrics = job.document.get("final_metrics")
        return job.name, job.status, job.secondary_status, job.created_at, duration, metrics
    created, end = job.get("CreationTime"), job.get("TrainingEndTime")
    status = job["TrainingJobStatus"]
    if end is None and status in _ACTIVE:
        end = datetime.fromtimestamp(now, UTC)
    duration = (end - created).total_seconds() if created and end else None
    return (
        job["TrainingJobName"],
        status,
        job.get("SecondaryStatus"),
        created,
        duration,
        job.get("FinalMetricDataList"),
    )


def channel_source(data_source: Any) -> str:
    """Where a channel's data comes from: an S3 URI, a directory, or the raw value.

    Example:
        >>> channel_source({"S3DataSource": {"S3Uri": "s3://b/train"}})
        's3://b/train'
    """
    if isinstance(data_source, Mapping):
        s3 = data_source.get("S3DataSource")
        if isinstance(s3, Mapping) and s3.get("S3Uri"):
            return str(s3["S3Uri"])
        fs = data_source.get("FileSystemDataSource")
        if isinstance(fs, Mapping):
            return str(fs.get("DirectoryPath") or fs.get("FileSystemId") or fs)
        return json.dumps(data_source, default=str)
    return NONE if data_source is None else str(data_source)


def _instances(resources: Mapping[str, Any]) -> str | None:
    if not resources:
        return None
    groups = resources.get("InstanceGroups")
    if groups:
        text = ", ".join(f"{g.get('InstanceCount')} x {g.get('InstanceType')}" for g in groups)
    else:
        text = f"{resources.get('InstanceCount', 1)} x {resources.get('InstanceType')}"
    volume = resources.get("VolumeSizeInGB")
    return f"{text}, {volume} GB volume" if volume else text


def describe_view(description: Mapping[str, Any]) -> Group:
    """The ``sageyard jobs describe`` rendering of a DescribeTrainingJob dict."""
    algorithm = description.get("AlgorithmSpecification") or {}
    failure = description.get("FailureReason")
    stopping = description.get("StoppingCondition") or {}
    parts: list[RenderableType] = [
        Text(str(description.get("TrainingJobName")), style="bold"),
        fields(
            [
                ("Status", status_text(description.get("TrainingJobStatus"))),
                ("Secondary status", description.get("SecondaryStatus")),
                ("Failure reason", Text(failure, style="red") if failure else None),
                ("ARN", description.get("TrainingJobArn")),
                ("Image", algorithm.get("TrainingImage") or algorithm.get("AlgorithmName")),
                ("Instances", _instances(description.get("ResourceConfig") or {})),
                ("Created", optional_time(description.get("CreationTime"))),
                ("Training start", optional_time(description.get("TrainingStartTime"))),
                ("Training end", optional_time(description.get("TrainingEndTime"))),
                ("Training time", format_seconds(description.get("TrainingTimeInSeconds"))),
                ("Billable time", format_seconds(description.get("BillableTimeInSeconds"))),
                ("Managed spot savings", _spot_savings(description)),
                ("Warm pool", _warm_pool(description)),
                ("Max runtime", format_seconds(stopping.get("MaxRuntimeInSeconds"))),
                ("Max wait time", format_seconds(stopping.get("MaxWaitTimeInSeconds"))),
                (
                    "Model artifacts",
                    (description.get("ModelArtifacts") or {}).get("S3ModelArtifacts"),
                ),
                ("Output path", (description.get("OutputDataConfig") or {}).get("S3OutputPath")),
                ("Role", description.get("RoleArn")),
            ]
        ),
    ]
    warnings = description.get("Warnings") or []
    if warnings:
        parts.append(
            section("Warnings", Group(*(Text(f"! {w}", style="yellow") for w in warnings)))
        )
    hyperparameters = description.get("HyperParameters") or {}
    if hyperparameters:
        table = simple_table("Name", "Value")
        for name, value in hyperparameters.items():
            table.add_row(name, str(value))
        parts.append(section("Hyperparameters", table))
    environment = description.get("Environment") or {}
    if environment:
        table = simple_table("Variable", "Value")
        for name, value in environment.items():
            table.add_row(name, str(value))
        parts.append(section("Environment", table))
    channels = description.get("InputDataConfig") or []
    if channels:
        table = simple_table("Channel", "Source", "Input mode", "Content type")
        for channel in channels:
            table.add_row(
                str(channel.get("ChannelName")),
                channel_source(channel.get("DataSource")),
                channel.get("InputMode") or algorithm.get("TrainingInputMode") or NONE,
                channel.get("ContentType") or NONE,
            )
        parts.append(section("Channels", table))
    metrics = description.get("FinalMetricDataList") or []
    if metrics:
        table = simple_table("Metric", "Value", "Time")
        table.columns[1].justify = "right"
        for metric in metrics:
            table.add_row(
                str(metric.get("MetricName")),
                format_value(metric.get("Value")),
                local_time(metric.get("Timestamp")),
            )
        parts.append(section("Final metrics", table))
    transitions = description.get("SecondaryStatusTransitions") or []
    if transitions:
        table = simple_table("Status", "Start", "Duration", "Message")
        for item in transitions:
            start, end = item.get("StartTime"), item.get("EndTime")
            took = (end - start).total_seconds() if start is not None and end is not None else None
            table.add_row(
                status_text(item.get("Status")),
                local_time(start),
                format_duration(took),
                item.get("StatusMessage") or "",
            )
        parts.append(section("Secondary status transitions", table))
    return Group(*parts)


def _spot_savings(description: Mapping[str, Any]) -> str | None:
    """SageMaker's console figure: 1 - billable / training time, for managed spot jobs."""
    training = description.get("TrainingTimeInSeconds")
    billable = description.get("BillableTimeInSeconds")
    if not description.get("EnableManagedSpotTraining") or not training or billable is None:
        return None
    return f"{(1 - billable / training) * 100:.0f}%"


def _warm_pool(description: Mapping[str, Any]) -> str | None:
    """WarmPoolStatus in a line: ``Reused by job-2 (kept 12s)``, ``Available``, ..."""
    pool = description.get("WarmPoolStatus") or {}
    status = pool.get("Status")
    if not status:
        return None
    text = f"{status} by {pool['ReusedByJob']}" if pool.get("ReusedByJob") else str(status)
    if pool.get("ResourceRetainedBillableTimeInSeconds") is not None:
        text += f" (kept {format_seconds(pool['ResourceRetainedBillableTimeInSeconds'])})"
    return text
