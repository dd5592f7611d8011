"""SageMaker Metrics' ``BatchGetMetrics`` (``POST /BatchGetMetrics``, REST JSON) over the
job store's metric series, as boto3's ``sagemaker-metrics`` client calls it.

Each query names a training job (``ResourceArn``) and one metric; the answer is the series
in buckets of ``Period``: ``IterationNumber`` makes each logged value its own bucket,
``OneMinute``/``FiveMinute``/``OneHour`` group by time. ``MetricStat`` reduces a bucket
(``Last``, ``Min``, ``Max``, ``Avg``, ``Count``, ``StdDev``); ``XAxisType`` says whether
the x values are iteration numbers (each bucket's last step) or epoch seconds (its
start, or the value's own time). ``Start``/``End`` (epoch seconds) bound the times.
A query that cannot be answered gets ``ValidationError`` with a message, as the real
service answers it, and the others are still answered.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sageyard.core.exceptions import ResourceNotFound, ValidationException
from sageyard.store import MetricPoint
from sageyard.train.client import LocalClient

__all__ = ["MAX_QUERIES", "batch_get_metrics"]

#: The most queries one call may hold (the real service's limit).
MAX_QUERIES = 100

_PERIODS = {"OneMinute": 60, "FiveMinute": 300, "OneHour": 3600, "IterationNumber": None}
_STATS: dict[str, Callable[[Sequence[float]], float]] = {
    "Last": lambda values: values[-1],
    "Min": min,
    "Max": max,
    "Avg": statistics.fmean,
    "Count": lambda values: float(len(values)),
    "StdDev": lambda values: statistics.pstdev(values) if len(values) > 1 else 0.0,
}
_AXES = ("IterationNumber", "Timestamp")


def batch_get_metrics(client: LocalClient, request: Mapping[str, Any]) -> dict[str, Any]:
    queries = request.get("MetricQueries")
    if not isinstance(queries, list) or not 1 <= len(queries) <= MAX_QUERIES:
        raise ValidationException(
            f"MetricQueries must be a list of 1 to {MAX_QUERIES} queries, but got {queries!r}.",
            "BatchGetMetrics",
        )
    return {"MetricQueryResults": [_answer(client, query) for query in queries]}


def _answer(client: LocalClient, query: Any) -> dict[str, Any]:
    try:
        return _series(client, query)
    except (ValidationException, ResourceNotFound) as error:
        return {"Status": "ValidationError", "Message": error.message}


def _series(client: LocalClient, query: Any) -> dict[str, Any]:
    if not isinstance(query, Mapping):
        raise ValidationException(f"A metric query must be an object, not {query!r}.")
    name, metric = _job_name(query.get("ResourceArn")), query.get("MetricName")
    stat, period, axis = query.get("MetricStat"), query.get("Period"), query.get("XAxisType")
    for field, value, allowed in (
        ("MetricStat", stat, _STATS),
        ("Period", period, _PERIODS),
        ("XAxisType", axis, _AXES),
    ):
        if value not in allowed:
            raise ValidationException(f"{field} must be one of {sorted(allowed)}, not {value!r}.")
    if not isinstance(metric, str) or not metric:
        raise ValidationException(f"MetricName must be a metric's name, not {metric!r}.")
    start, end = query.get("Start"), query.get("End")
    points = [
        p
        for p in client.training_jobs.metrics(name, metric)
        if (start is None or p.at >= start) and (end is None or p.at <= end)
    ]
    buckets = _buckets(points, _PERIODS[str(period)])
    reduce = _STATS[str(stat)]
    xs = [
        bucket[-1].step if axis == "IterationNumber" else math.floor(key) for key, bucket in buckets
    ]
    return {
        "Status": "Complete",
        "XAxisValues": xs,
        "MetricValues": [reduce([p.value for p in bucket]) for _, bucket in buckets],
    }


def _buckets(
    points: list[MetricPoint], seconds: int | None
) -> list[tuple[float, list[MetricPoint]]]:
    """The points in order, grouped: each alone (by iteration), or by ``seconds``-long
    windows keyed by their start."""
    ordered = sorted(points, key=lambda p: (p.at, p.step))
    if seconds is None:
        return [(p.at, [p]) for p in ordered]
    groups: dict[float, list[MetricPoint]] = {}
    for point in ordered:
        groups.setdefault(point.at // seconds * seconds, []).append(point)
    return list(groups.items())


def _job_name(arn: Any) -> str:
    """The training job an ARN names (``arn:aws:sagemaker:…:training-job/<name>``)."""
    if isinstance(arn, str) and ":training-job/" in arn:
        name = arn.rpartition(":training-job/")[2]
        if name:
            return name
    raise ValidationException(
        f"ResourceArn must be a training job's ARN (arn:aws:sagemaker:…:training-job/<name>), "
        f"not {arn!r}."
    )
