"""The records a job store holds and the narrow :class:`JobStore` interface."""

from __future__ import annotations

import builtins
import time
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class JobRecord:
    """One job (training job, tuning job, ...) as the store holds it.

    Timestamps are epoch seconds. ``document`` is the job's full description, a JSON
    object; the other fields are the columns that callers filter on.

    Example:
        >>> record = JobRecord(name="job-1", kind="TrainingJob", status="InProgress",
        ...     secondary_status="Starting", parent=None, created_at=0.0, updated_at=0.0,
        ...     heartbeat_at=None, owner=None, document={"RoleArn": "arn:..."})
        >>> record.status
        'InProgress'
    """

    name: str
    kind: str
    status: str
    secondary_status: str | None
    parent: str | None
    created_at: float
    updated_at: float
    heartbeat_at: float | None
    owner: str | None
    document: dict[str, Any]

    @classmethod
    def registered(
        cls, name: str, kind: str, parent: str | None, document: dict[str, Any], status: str
    ) -> JobRecord:
        """A row for something registered, not run (a model package, a dataset): no
        supervisor, heartbeat or secondary status; created now."""
        now = time.time()
        return cls(name, kind, status, None, parent, now, now, None, None, document)


@dataclass(frozen=True)
class MetricPoint:
    """One value of one metric of a job.

    Example:
        >>> MetricPoint(metric_name="train:loss", value=0.25, at=1700000000.0, step=10)
        MetricPoint(metric_name='train:loss', value=0.25, at=1700000000.0, step=10)
    """

    metric_name: str
    value: float
    at: float
    step: int


@dataclass(frozen=True)
class LogChunk:
    """Whole lines of one host's output, as a supervisor stored them (``id`` grows).

    Example:
        >>> LogChunk(id=1, host="algo-1", at=1700000000.0, text="epoch 1\n")
        LogChunk(id=1, host='algo-1', at=1700000000.0, text='epoch 1\n')
    """

    id: int
    host: str
    at: float
    text: str


def final_metrics(points: Iterable[MetricPoint]) -> builtins.list[dict[str, Any]]:
    """FinalMetricDataList: the last value of each metric, in first-seen order.

    Example:
        >>> final_metrics([MetricPoint("loss", 2.0, 1.0, 0), MetricPoint("loss", 1.0, 2.0, 1)])
        [{'MetricName': 'loss', 'Value': 1.0, 'Timestamp': 2.0}]
    """
    last: dict[str, MetricPoint] = {}
    for point in points:
        last[point.metric_name] = point
    return [
        {"MetricName": p.metric_name, "Value": p.value, "Timestamp": p.at} for p in last.values()
    ]


@runtime_checkable
class JobStore(Protocol):
    """Where jobs, their events and their metrics live, readable from any process.

    Kept narrow on purpose: services build the rich behaviour on top of it.
    :class:`~sageyard.store.SqlJobStore` is the implementation.
    """

    def create(self, record: JobRecord, events: Sequence[dict[str, Any]] = ()) -> None:
        """Insert a new job, with its first ``events`` (at its ``created_at``) in the same
        transaction. Raises ``ResourceInUse`` if the name is taken (nothing written)."""
        ...

    def update(
        self,
        name: str,
        *,
        status: str | None = None,
        secondary_status: str | None = None,
        document_patch: dict[str, Any] | None = None,
        heartbeat_at: float | None = None,
        owner: str | None = None,
        expect_status: Collection[str] | None = None,
        events: Sequence[dict[str, Any]] = (),
    ) -> JobRecord | None:
        """Atomically change a job, appending ``events`` in the same transaction; ``None``
        (nothing changed, no event appended) when ``expect_status`` did not match."""
        ...

    def get(self, name: str) -> JobRecord | None:
        """The job called ``name``, or ``None``."""
        ...

    def delete(
        self, name: str, *, expect_status: Collection[str] | None = None
    ) -> JobRecord | None:
        """Atomically remove a job with its events and metrics, and return it as it was;
        the jobs whose ``parent`` it was stay, with no parent. ``None`` (nothing removed)
        when ``expect_status`` did not match. Raises ``ResourceNotFound`` if there is none."""
        ...

    def list(
        self,
        kind: str | None = None,
        *,
        status: str | None = None,
        parent: str | None = None,
        name_contains: str | None = None,
        limit: int | None = None,
        newest_first: bool = True,
    ) -> builtins.list[JobRecord]:
        """Jobs matching every given filter, ordered by creation time."""
        ...

    def append_events(
        self, name: str, payloads: Sequence[dict[str, Any]], at: float | None = None
    ) -> None:
        """Append events (JSON objects) to a job's event log."""
        ...

    def events(self, name: str, start: int = 0) -> builtins.list[tuple[float, dict[str, Any]]]:
        """A job's events as ``(at, payload)`` in insertion order, from the ``start``-th."""
        ...

    def append_metrics(self, name: str, points: Sequence[MetricPoint]) -> None:
        """Append metric points to a job, in one transaction."""
        ...

    def metrics(self, name: str, metric_name: str | None = None) -> builtins.list[MetricPoint]:
        """A job's metric points in insertion order, optionally of one metric."""
        ...

    def append_logs(
        self, name: str, chunks: Sequence[tuple[str, str]], at: float | None = None
    ) -> None:
        """Append ``(host, text)`` chunks of whole log lines to a job, in one transaction
        (the logs of jobs whose hosts run elsewhere: a cluster's nodes)."""
        ...

    def logs(self, name: str, after: int = 0) -> builtins.list[LogChunk]:
        """A job's stored log chunks in insertion order, those with ``id`` > ``after``."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
