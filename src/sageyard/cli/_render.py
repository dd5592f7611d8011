"""Rich renderings of training jobs for the CLI.

Pure: data in, strings or rich renderables out; nothing here reads the store or the
environment (``console()`` aside), so every helper is unit-tested directly.

Example:
    >>> format_duration(125)
    '2m05s'
    >>> format_metrics([{"MetricName": "train:loss", "Value": 0.1234567}])
    'train:loss=0.123457'
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from sageyard.store import JobRecord

#: Rich style of each job status (unknown statuses are unstyled).
STATUS_STYLES: dict[str, str] = {
    "InProgress": "cyan",
    "Completed": "green",
    "Stopping": "yellow",
    "Stopped": "yellow",
    "Failed": "bold red",
}

_ACTIVE = frozenset({"InProgress", "Stopping"})
_NONE = "-"


def console(*, stderr: bool = False) -> Console:
    """A console that does not wrap lines at 80 columns when output goes to a pipe or file.

    On a terminal, rich follows the terminal's width. Elsewhere (``sageyard jobs list | grep``)
    it would wrap tables at 80 columns unless ``COLUMNS`` is set; a wide width keeps each row on
    one line instead, and tables only take the width they need.
    """
    out = Console(stderr=stderr, highlight=False)
    if not out.is_terminal and out.width == 80:
        out = Console(stderr=stderr, highlight=False, width=240)
    return out


def status_text(status: str | None) -> Text:
    """The status, coloured by :data:`STATUS_STYLES`."""
    if not status:
        return Text(_NONE, style="dim")
    return Text(status, style=STATUS_STYLES.get(status, ""))


def local_time(value: datetime | float | None) -> str:
    """A datetime (aware) or epoch seconds as ``YYYY-mm-dd HH:MM:SS`` in local time.

    Example:
        >>> local_time(None)
        '-'
    """
    if value is None:
        return _NONE
    when = datetime.fromtimestamp(value) if isinstance(value, int | float) else value
    return when.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def format_duration(seconds: float | None) -> str:
    """Seconds as a compact duration: ``0.4s``, ``12s``, ``2m05s``, ``1h02m``, ``3d04h``.

    Example:
        >>> [format_duration(s) for s in (0.42, 12.3, 125, 3720, 273600)]
        ['0.4s', '12s', '2m05s', '1h02m', '3d04h']
    """
    if seconds is None:
        return _NONE
    seconds = max(0.0, float(seconds))
    if seconds < 10:
        return f"{seconds:.1f}s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"


def format_value(value: Any) -> str:
    """A metric value with at most 6 significant digits (``0.333``, ``1.23457e+06``)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:.6g}"
    return str(value)


def format_metrics(metrics: Iterable[Mapping[str, Any]] | None, sep: str = " ") -> str:
    """FinalMetricDataList items as ``name=value`` pairs joined by ``sep`` (``-`` if none)."""
    pairs = [f"{m['MetricName']}={format_value(m['Value'])}" for m in metrics or []]
    return sep.join(pairs) or _NONE


def job_duration(record: JobRecord, now: float) -> float | None:
    """Wall time from creation to the job's end, or to ``now`` while it is still active."""
    doc = record.document
    end = doc.get("end_time") or doc.get("training_end_time")
    if end is None:
        end = now if record.status in _ACTIVE else None
    return None if end is None else end - record.created_at


def jobs_table(records: Sequence[JobRecord], now: float) -> Table:
    """The ``sageyard jobs list`` table, one row per job, in the given order."""
    table = Table(box=None, header_style="bold", pad_edge=False)
    # Names stay whole (they are copied into other commands); other columns wrap if narrow.
    table.add_column("Name", no_wrap=True, min_width=max((len(r.name) for r in records), default=4))
    table.add_column("Status", no_wrap=True)
    table.add_column("Secondary status")
    table.add_column("Created", no_wrap=True)
    table.add_column("Duration", justify="right", no_wrap=True)
    table.add_column("Metrics", min_width=12, overflow="fold")
    for record in records:
        table.add_row(
            record.name,
            status_text(record.status),
            record.secondary_status or _NONE,
            local_time(record.created_at),
            format_duration(job_duration(record, now)),
            format_metrics(record.document.get("final_metrics"), sep="\n"),
        )
    return table


def _fields(rows: Iterable[tuple[str, RenderableType | None]]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value in rows:
        if value is not None and value != "":
            grid.add_row(label, value)
    return grid


def _section(title: str, body: RenderableType) -> Group:
    return Group(Text(""), Text(title, style="bold underline"), body)


def _simple_table(*columns: str) -> Table:
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


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
    return _NONE if data_source is None else str(data_source)


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


def _time(value: datetime | None) -> str | None:
    return None if value is None else local_time(value)


def _seconds(value: Any) -> str | None:
    if value is None:
        return None
    return f"{value} s" if value < 60 else f"{format_duration(value)} ({value} s)"


def describe_view(description: Mapping[str, Any]) -> Group:
    """The ``sageyard jobs describe`` rendering of a DescribeTrainingJob dict."""
    algorithm = description.get("AlgorithmSpecification") or {}
    failure = description.get("FailureReason")
    stopping = description.get("StoppingCondition") or {}
    parts: list[RenderableType] = [
        Text(str(description.get("TrainingJobName")), style="bold"),
        _fields(
            [
                ("Status", status_text(description.get("TrainingJobStatus"))),
                ("Secondary status", description.get("SecondaryStatus")),
                ("Failure reason", Text(failure, style="red") if failure else None),
                ("ARN", description.get("TrainingJobArn")),
                ("Image", algorithm.get("TrainingImage") or algorithm.get("AlgorithmName")),
                ("Instances", _instances(description.get("ResourceConfig") or {})),
                ("Created", _time(description.get("CreationTime"))),
                ("Training start", _time(description.get("TrainingStartTime"))),
                ("Training end", _time(description.get("TrainingEndTime"))),
                ("Training time", _seconds(description.get("TrainingTimeInSeconds"))),
                ("Billable time", _seconds(description.get("BillableTimeInSeconds"))),
                ("Max runtime", _seconds(stopping.get("MaxRuntimeInSeconds"))),
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
            _section("Warnings", Group(*(Text(f"! {w}", style="yellow") for w in warnings)))
        )
    hyperparameters = description.get("HyperParameters") or {}
    if hyperparameters:
        table = _simple_table("Name", "Value")
        for name, value in hyperparameters.items():
            table.add_row(name, str(value))
        parts.append(_section("Hyperparameters", table))
    environment = description.get("Environment") or {}
    if environment:
        table = _simple_table("Variable", "Value")
        for name, value in environment.items():
            table.add_row(name, str(value))
        parts.append(_section("Environment", table))
    channels = description.get("InputDataConfig") or []
    if channels:
        table = _simple_table("Channel", "Source", "Input mode", "Content type")
        for channel in channels:
            table.add_row(
                str(channel.get("ChannelName")),
                channel_source(channel.get("DataSource")),
                channel.get("InputMode") or algorithm.get("TrainingInputMode") or _NONE,
                channel.get("ContentType") or _NONE,
            )
        parts.append(_section("Channels", table))
    metrics = description.get("FinalMetricDataList") or []
    if metrics:
        table = _simple_table("Metric", "Value", "Time")
        table.columns[1].justify = "right"
        for metric in metrics:
            table.add_row(
                str(metric.get("MetricName")),
                format_value(metric.get("Value")),
                local_time(metric.get("Timestamp")),
            )
        parts.append(_section("Final metrics", table))
    transitions = description.get("SecondaryStatusTransitions") or []
    if transitions:
        table = _simple_table("Status", "Start", "Duration", "Message")
        for item in transitions:
            start, end = item.get("StartTime"), item.get("EndTime")
            took = (end - start).total_seconds() if start is not None and end is not None else None
            table.add_row(
                status_text(item.get("Status")),
                local_time(start),
                format_duration(took),
                item.get("StatusMessage") or "",
            )
        parts.append(_section("Secondary status transitions", table))
    return Group(*parts)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def to_json(description: Mapping[str, Any]) -> str:
    """The dict as indented JSON; datetimes become ISO 8601 strings.

    Example:
        >>> from datetime import UTC, datetime
        >>> to_json({"CreationTime": datetime(2025, 1, 2, tzinfo=UTC)})
        '{\\n  "CreationTime": "2025-01-02T00:00:00+00:00"\\n}'
    """
    return json.dumps(description, indent=2, default=_json_default)
