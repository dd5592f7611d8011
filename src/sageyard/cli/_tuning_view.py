"""Rich renderings of tuning jobs: the ``sageyard tuning list`` table, the ``sageyard
tuning describe`` view with its trials, and the live ``--watch`` view.

Pure, like :mod:`sageyard.cli._render`, whose helpers it builds on.

Example:
    >>> format_tuned("0.417022004702574")
    '0.417022'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from rich.console import Group, RenderableType
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from sageyard.cli._render import (
    NONE,
    fields,
    format_duration,
    format_seconds,
    format_value,
    local_time,
    optional_time,
    section,
    simple_table,
    status_text,
)


def tuning_objective(description: Mapping[str, Any]) -> str:
    """``Maximize val:acc``; a multi-trainer job lists each trainer's metric.

    Example:
        >>> tuning_objective({"HyperParameterTuningJobConfig": {
        ...     "HyperParameterTuningJobObjective": {"Type": "Minimize", "MetricName": "loss"}}})
        'Minimize loss'
    """
    config = description.get("HyperParameterTuningJobConfig") or {}
    single = config.get("HyperParameterTuningJobObjective")
    if single:
        return f"{single.get('Type')} {single.get('MetricName')}"
    parts = []
    for definition in description.get("TrainingJobDefinitions") or []:
        objective = definition.get("TuningObjective") or {}
        label = definition.get("DefinitionName")
        metric = objective.get("MetricName")
        parts.append((objective.get("Type"), f"{label}: {metric}" if label else str(metric)))
    if not parts:
        return NONE
    kinds = dict.fromkeys(kind for kind, _ in parts)
    return f"{'/'.join(map(str, kinds))} {', '.join(text for _, text in parts)}"


def tuning_progress(description: Mapping[str, Any]) -> tuple[int, int | None, int]:
    """``(trials ended, MaxNumberOfTrainingJobs, trials running)`` of a tuning job.

    Example:
        >>> tuning_progress({"TrainingJobStatusCounters": {"Completed": 3, "NonRetryableError": 1,
        ...     "InProgress": 2}, "HyperParameterTuningJobConfig": {"ResourceLimits": {
        ...     "MaxNumberOfTrainingJobs": 10}}})
        (4, 10, 2)
    """
    counts = description.get("TrainingJobStatusCounters") or {}
    done = sum(
        int(counts.get(key) or 0)
        for key in ("Completed", "Stopped", "NonRetryableError", "RetryableError")
    )
    limits = (description.get("HyperParameterTuningJobConfig") or {}).get("ResourceLimits") or {}
    return done, limits.get("MaxNumberOfTrainingJobs"), int(counts.get("InProgress") or 0)


def best_objective(description: Mapping[str, Any]) -> float | None:
    """The BestTrainingJob's final objective value, if there is one yet."""
    best = description.get("BestTrainingJob") or {}
    metric = best.get("FinalHyperParameterTuningJobObjectiveMetric") or {}
    value = metric.get("Value")
    return None if value is None else float(value)


def _trials_done(description: Mapping[str, Any]) -> str:
    done, limit, _ = tuning_progress(description)
    return f"{done}/{NONE if limit is None else limit}"


def tuning_table(descriptions: Sequence[Mapping[str, Any]]) -> Table:
    """The ``sageyard tuning list`` table: one row per DescribeHyperParameterTuningJob dict."""
    names = [str(d.get("HyperParameterTuningJobName")) for d in descriptions]
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("Name", no_wrap=True, min_width=max(map(len, names), default=4))
    table.add_column("Status", no_wrap=True)
    table.add_column("Strategy", no_wrap=True)
    table.add_column("Trials", justify="right", no_wrap=True)
    table.add_column("Running", justify="right", no_wrap=True)
    table.add_column("Best", justify="right", no_wrap=True)
    table.add_column("Created", no_wrap=True)
    for name, description in zip(names, descriptions, strict=True):
        config = description.get("HyperParameterTuningJobConfig") or {}
        best = best_objective(description)
        table.add_row(
            name,
            status_text(description.get("HyperParameterTuningJobStatus")),
            str(config.get("Strategy") or NONE),
            _trials_done(description),
            str(tuning_progress(description)[2]),
            NONE if best is None else format_value(best),
            local_time(description.get("CreationTime")),
        )
    return table


def format_tuned(value: Any) -> str:
    """A tuned hyperparameter (the API keeps them as strings) with 6 significant digits.

    Example:
        >>> [format_tuned(v) for v in ("0.417022004702574", "8", "adam", "1e-05")]
        ['0.417022', '8', 'adam', '1e-05']
    """
    text = str(value)
    if text.lstrip("-").isdigit():
        return text
    try:
        return format_value(float(text))
    except ValueError:
        return text


def _counters(counts: Mapping[str, Any], labels: Sequence[tuple[str, str]]) -> str | None:
    """The non-zero counters as ``6 completed, 1 failed`` (``none`` if all are zero)."""
    if not counts:
        return None
    parts = [f"{counts[key]} {label}" for key, label in labels if counts.get(key)]
    return ", ".join(parts) or "none"


def _ranges(description: Mapping[str, Any]) -> list[tuple[str | None, Mapping[str, Any]]]:
    config = description.get("HyperParameterTuningJobConfig") or {}
    found: list[tuple[str | None, Mapping[str, Any]]] = []
    if config.get("ParameterRanges"):
        found.append((None, config["ParameterRanges"]))
    for definition in description.get("TrainingJobDefinitions") or []:
        if definition.get("HyperParameterRanges"):
            found.append((definition.get("DefinitionName"), definition["HyperParameterRanges"]))
    return found


def _ranges_table(description: Mapping[str, Any]) -> Table | None:
    found = _ranges(description)
    if not found:
        return None
    labelled = any(label for label, _ in found)
    table = simple_table(*(["Trainer"] if labelled else []), "Name", "Type", "Range", "Scaling")
    for label, ranges in found:
        for kind in ("Continuous", "Integer", "Categorical"):
            for item in ranges.get(f"{kind}ParameterRanges") or []:
                if kind == "Categorical":
                    span = ", ".join(map(str, item.get("Values") or []))
                else:
                    low, high = item.get("MinValue"), item.get("MaxValue")
                    span = f"{format_tuned(low)} .. {format_tuned(high)}"
                row = [str(item.get("Name")), kind, span, item.get("ScalingType") or NONE]
                table.add_row(*([label or NONE] if labelled else []), *row)
    return table if table.row_count else None


def _completion(details: Mapping[str, Any]) -> Table | None:
    if not details:
        return None
    rows: list[tuple[str, RenderableType | None]] = []
    for key, value in details.items():
        if key == "NumberOfTrainingJobsObjectiveNotImproving":
            rows.append(("Trials not improving", str(value)))
        elif key == "ConvergenceDetectedTime":
            rows.append(("Convergence detected", local_time(value)))
        elif key == "Reason":
            rows.append(("Reason", str(value)))
        else:
            rows.append((key, str(value)))
    return fields(rows)


def _objective_cell(summary: Mapping[str, Any], is_best: bool) -> Text:
    """The trial's final objective; dim when it does not count (its objective failed)."""
    metric = summary.get("FinalHyperParameterTuningJobObjectiveMetric") or {}
    value = metric.get("Value")
    if value is None:
        return Text(NONE, style="dim")
    if is_best:
        return Text(format_value(value), style="bold green")
    counts = summary.get("ObjectiveStatus", "Succeeded") == "Succeeded"
    return Text(format_value(value), style="" if counts else "dim")


def short_reason(reason: str | None) -> str:
    """A failure reason on one line: its first line, and its last if there are more.

    Example:
        >>> short_reason("AlgorithmError: exited with code 1:\nstep 1\nboom: bad y\n")
        'AlgorithmError: exited with code 1: … boom: bad y'
    """
    lines = [line.strip() for line in (reason or "").splitlines() if line.strip()]
    if len(lines) <= 1:
        return lines[0] if lines else ""
    return f"{lines[0]} … {lines[-1]}"


def _created_at(summary: Mapping[str, Any]) -> float:
    created = summary.get("CreationTime")
    return created.timestamp() if isinstance(created, datetime) else 0.0


def trials_table(
    summaries: Sequence[Mapping[str, Any]],
    best_name: str | None = None,
    *,
    last: int | None = None,
) -> Table:
    """One row per trial, numbered in creation order: tuned values, status, objective.

    The best trial is starred; a ``Trainer`` column appears for multi-trainer jobs and a
    ``Failure reason`` column when a trial has one. ``last`` keeps only the newest trials
    (a first row says how many are left out).
    """
    ordered = list(enumerate(sorted(summaries, key=_created_at), start=1))  # stable sort
    hidden = 0
    if last is not None and len(ordered) > last:
        hidden = len(ordered) - last
        ordered = ordered[hidden:]
    shown = [summary for _, summary in ordered]
    tuned = list(dict.fromkeys(k for s in shown for k in (s.get("TunedHyperParameters") or {})))
    trainers = any(s.get("TrainingJobDefinitionName") for s in shown)
    reasons = any(s.get("FailureReason") for s in shown)
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("", no_wrap=True)
    table.add_column("Training job", no_wrap=True)
    if trainers:
        table.add_column("Trainer", no_wrap=True)
    for name in tuned:
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    table.add_column("Objective", justify="right", no_wrap=True)
    table.add_column("Duration", justify="right", no_wrap=True)
    if reasons:
        # The only column that gives way when the table is too wide; it keeps one line.
        table.add_column("Failure reason", max_width=80)
    if hidden:
        table.add_row("", "", Text(f"… {hidden} earlier trials", style="dim"))
    for number, summary in ordered:
        values = summary.get("TunedHyperParameters") or {}
        start, end = summary.get("TrainingStartTime"), summary.get("TrainingEndTime")
        took = (end - start).total_seconds() if start is not None and end is not None else None
        is_best = best_name is not None and summary.get("TrainingJobName") == best_name
        row: list[RenderableType] = [
            str(number),
            Text("★", style="bold green") if is_best else "",
            str(summary.get("TrainingJobName")),
        ]
        if trainers:
            row.append(str(summary.get("TrainingJobDefinitionName") or NONE))
        row += [format_tuned(values[n]) if n in values else NONE for n in tuned]
        row += [
            status_text(summary.get("TrainingJobStatus")),
            _objective_cell(summary, is_best),
            format_duration(took),
        ]
        if reasons:
            reason = short_reason(summary.get("FailureReason"))
            row.append(Text(reason, style="red", no_wrap=True, overflow="ellipsis"))
        table.add_row(*row)
    return table


_TRAINING_COUNTERS = (
    ("Completed", "completed"),
    ("InProgress", "in progress"),
    ("Stopped", "stopped"),
    ("NonRetryableError", "failed"),
    ("RetryableError", "retryable errors"),
)
_OBJECTIVE_COUNTERS = (("Succeeded", "succeeded"), ("Pending", "pending"), ("Failed", "failed"))


def _limits(config: Mapping[str, Any]) -> str | None:
    limits = config.get("ResourceLimits") or {}
    parts = []
    if limits.get("MaxNumberOfTrainingJobs") is not None:
        parts.append(f"{limits['MaxNumberOfTrainingJobs']} trials")
    if limits.get("MaxParallelTrainingJobs") is not None:
        parts.append(f"{limits['MaxParallelTrainingJobs']} in parallel")
    if limits.get("MaxRuntimeInSeconds") is not None:
        parts.append(f"{format_seconds(limits['MaxRuntimeInSeconds'])} runtime")
    return ", ".join(parts) or None


def _warm_start(description: Mapping[str, Any]) -> str | None:
    warm = description.get("WarmStartConfig") or {}
    if not warm:
        return None
    parents = [
        str(p.get("HyperParameterTuningJobName"))
        for p in warm.get("ParentHyperParameterTuningJobs") or []
    ]
    return f"{warm.get('WarmStartType')} from {', '.join(parents)}"


def _status_fields(description: Mapping[str, Any], *, full: bool) -> Table:
    """The tuning job's key/value block; ``full=False`` keeps what changes while it runs."""
    config = description.get("HyperParameterTuningJobConfig") or {}
    failure = description.get("FailureReason")
    done, limit, running = tuning_progress(description)
    consumed = (description.get("ConsumedResources") or {}).get("RuntimeInSeconds")
    seed = config.get("RandomSeed")
    rows: list[tuple[str, RenderableType | None]] = [
        ("Status", status_text(description.get("HyperParameterTuningJobStatus"))),
        ("Failure reason", Text(failure, style="red") if failure else None),
    ]
    if full:
        rows.append(("ARN", description.get("HyperParameterTuningJobArn")))
    rows += [
        ("Strategy", config.get("Strategy")),
        ("Objective", tuning_objective(description)),
        ("Limits", _limits(config)),
        ("Trials", f"{done}/{NONE if limit is None else limit} done, {running} running"),
        (
            "Training jobs",
            _counters(description.get("TrainingJobStatusCounters") or {}, _TRAINING_COUNTERS),
        ),
        (
            "Objectives",
            _counters(description.get("ObjectiveStatusCounters") or {}, _OBJECTIVE_COUNTERS),
        ),
    ]
    if full:
        rows += [
            ("Early stopping", config.get("TrainingJobEarlyStoppingType")),
            ("Random seed", None if seed is None else str(seed)),
            ("Warm start", _warm_start(description)),
        ]
    rows += [
        ("Created", optional_time(description.get("CreationTime"))),
        ("Ended", optional_time(description.get("HyperParameterTuningEndTime"))),
        ("Runtime", format_seconds(consumed)),
    ]
    return fields(rows)


def _best_fields(best: Mapping[str, Any]) -> Table:
    metric = best.get("FinalHyperParameterTuningJobObjectiveMetric") or {}
    return fields(
        [
            ("Name", Text(str(best.get("TrainingJobName")), style="bold green")),
            ("Trainer", best.get("TrainingJobDefinitionName")),
            ("Status", status_text(best.get("TrainingJobStatus"))),
            ("Objective", f"{metric.get('MetricName')} = {format_value(metric.get('Value'))}"),
        ]
    )


def tuning_view(
    description: Mapping[str, Any], summaries: Sequence[Mapping[str, Any]] | None = None
) -> Group:
    """The ``sageyard tuning describe`` rendering of a DescribeHyperParameterTuningJob dict
    and (optionally) its trials' summaries (ListTrainingJobsForHyperParameterTuningJob)."""
    parts: list[RenderableType] = [
        Text(str(description.get("HyperParameterTuningJobName")), style="bold"),
        _status_fields(description, full=True),
    ]
    ranges = _ranges_table(description)
    if ranges is not None:
        parts.append(section("Parameter ranges", ranges))
    best = description.get("BestTrainingJob") or {}
    if best:
        parts.append(section("Best training job", _best_fields(best)))
        tuned = best.get("TunedHyperParameters") or {}
        if tuned:
            table = simple_table("Hyperparameter", "Value")
            for name, value in tuned.items():
                table.add_row(name, format_tuned(value))
            parts.append(Group(Text(""), table))
    details = dict(description.get("TuningJobCompletionDetails") or {})
    if description.get("CompletionReason"):
        details["Reason"] = description["CompletionReason"]
    completion = _completion(details)
    if completion is not None:
        parts.append(section("Completion details", completion))
    if summaries:
        parts.append(section("Trials", trials_table(summaries, best.get("TrainingJobName"))))
    elif summaries is not None:
        parts.append(section("Trials", Text("No trials yet.", style="dim")))
    return Group(*parts)


def tuning_watch_view(
    description: Mapping[str, Any],
    summaries: Sequence[Mapping[str, Any]],
    *,
    interval: float,
    last: int | None = None,
) -> Group:
    """The live view of ``sageyard tuning describe --watch``: a progress bar, what changes
    while the job runs, the newest ``last`` trials, and how to leave."""
    done, limit, running = tuning_progress(description)
    best = description.get("BestTrainingJob") or {}
    value = best_objective(description)
    header = Table.grid(padding=(0, 2))
    header.add_column(no_wrap=True)
    header.add_column(no_wrap=True)
    header.add_column(width=40)
    header.add_row(
        Text(str(description.get("HyperParameterTuningJobName")), style="bold"),
        Text(
            f"{done}/{NONE if limit is None else limit} trials done, {running} running"
            + ("" if value is None else f", best {format_value(value)}")
        ),
        ProgressBar(total=float(limit or max(done, 1)), completed=float(done), width=40),
    )
    parts: list[RenderableType] = [header, Text(""), _status_fields(description, full=False)]
    if best:
        parts.append(section("Best training job", _best_fields(best)))
    if summaries:
        parts.append(
            section("Trials", trials_table(summaries, best.get("TrainingJobName"), last=last))
        )
    parts += [
        Text(""),
        Text(
            f"Refreshing every {interval:g} s until the tuning job ends; Ctrl-C stops "
            "watching (the tuning job goes on).",
            style="dim",
        ),
    ]
    return Group(*parts)
