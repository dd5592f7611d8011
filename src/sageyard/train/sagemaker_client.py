"""``Session.sagemaker_client``: the SageMaker operations of training and tuning, as boto3's
``sagemaker`` client takes and answers them, served by sageyard's job services.

Code written for the real SDK reaches past the resources to the client
(``session.sagemaker_client.describe_training_job(TrainingJobName=...)``); these calls
answer from this machine's job store with the real response shapes. Operations outside
training and tuning raise a ClientError that says so.

Example:
    >>> from sageyard.core.session import Session
    >>> client = Session().sagemaker_client
    >>> client.list_training_jobs(MaxResults=1)["TrainingJobSummaries"]  # doctest: +SKIP
    [{'TrainingJobName': 'my-job-…', 'TrainingJobStatus': 'Completed', ...}]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from sageyard.core.exceptions import ValidationException
from sageyard.core.settings import HasSettings
from sageyard.store import JobRecord
from sageyard.train.client import LocalClient

__all__ = ["SageMakerClient", "training_summary", "tuning_summary"]

_PAGE = 100  # MaxResults' default and ceiling, as the API's


class SageMakerClient:
    """boto3's ``sagemaker`` client, for what sageyard runs: training and tuning jobs (the
    services of this process; with a server, ``Session.sagemaker_client`` is boto3's own
    client pointed at it)."""

    def __init__(self, session: HasSettings) -> None:
        self._client = LocalClient(session.settings)
        self.meta = _Meta(session.settings.region)

    # -- training jobs -----------------------------------------------------------------------

    def create_training_job(self, **request: Any) -> dict[str, Any]:
        """CreateTrainingJob (a ``Sageyard`` key may carry what the API has no field for)."""
        return self._client.create_training_job(request)

    def describe_training_job(self, TrainingJobName: str) -> dict[str, Any]:
        return self._client.training_jobs.describe(TrainingJobName)

    def stop_training_job(self, TrainingJobName: str) -> dict[str, Any]:
        self._client.training_jobs.stop(TrainingJobName)
        return {}

    def list_training_jobs(self, **filters: Any) -> dict[str, Any]:
        """ListTrainingJobs: NameContains, StatusEquals, Creation/LastModifiedTime
        After/Before, SortBy (CreationTime | Name | Status), SortOrder, MaxResults,
        NextToken."""
        service = self._client.training_jobs
        return _page(
            service.list_jobs(
                status=filters.get("StatusEquals"), name_contains=filters.get("NameContains")
            ),
            filters,
            lambda record: training_summary(self._client, record),
            "TrainingJobSummaries",
        )

    # -- tuning jobs -------------------------------------------------------------------------

    def create_hyper_parameter_tuning_job(self, **request: Any) -> dict[str, Any]:
        return self._client.create_hyper_parameter_tuning_job(request)

    def describe_hyper_parameter_tuning_job(
        self,
        HyperParameterTuningJobName: str,
    ) -> dict[str, Any]:
        return self._client.tuning_jobs.describe(HyperParameterTuningJobName)

    def stop_hyper_parameter_tuning_job(
        self,
        HyperParameterTuningJobName: str,
    ) -> dict[str, Any]:
        self._client.tuning_jobs.stop(HyperParameterTuningJobName)
        return {}

    def list_hyper_parameter_tuning_jobs(self, **filters: Any) -> dict[str, Any]:
        """ListHyperParameterTuningJobs, with ListTrainingJobs' filters."""
        service = self._client.tuning_jobs
        return _page(
            service.list_jobs(
                status=filters.get("StatusEquals"), name_contains=filters.get("NameContains")
            ),
            filters,
            lambda record: tuning_summary(service.describe(record.name)),
            "HyperParameterTuningJobSummaries",
        )

    def list_training_jobs_for_hyper_parameter_tuning_job(
        self,
        HyperParameterTuningJobName: str,
        **filters: Any,
    ) -> dict[str, Any]:
        """The trials' HyperParameterTrainingJobSummary list (StatusEquals, SortBy
        FinalObjectiveMetricValue, SortOrder, MaxResults, NextToken)."""
        summaries = self._client.tuning_jobs.summaries(
            HyperParameterTuningJobName,
            filters.get("StatusEquals"),
            filters.get("SortBy"),
            filters.get("SortOrder"),
        )
        start, end = _window(filters)
        response: dict[str, Any] = {"TrainingJobSummaries": summaries[start:end]}
        if end < len(summaries):
            response["NextToken"] = str(end)
        return response

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name in _BOTO_MACHINERY:
            raise AttributeError(
                f"sageyard's sagemaker_client has no {name!r} (boto3's paginators, waiters and "
                "exception classes are not served); call the operations themselves."
            )

        def refused(**_: Any) -> Any:
            raise ValidationException(
                f"sageyard's sagemaker_client serves training and tuning jobs; {name} is not "
                "among them (sageyard trains; it does not host endpoints or run other "
                "SageMaker services).",
                "".join(part.capitalize() for part in name.split("_")),
            )

        return refused


#: boto3 client attributes that are not operations: asking for them is an AttributeError.
_BOTO_MACHINERY = frozenset({"exceptions", "get_paginator", "can_paginate", "get_waiter"})


class _Meta:
    """``client.meta.region_name``, as boto3 clients have it."""

    def __init__(self, region_name: str) -> None:
        self.region_name = region_name


def _window(filters: Mapping[str, Any]) -> tuple[int, int]:
    start = int(filters.get("NextToken") or 0)
    size = min(int(filters.get("MaxResults") or _PAGE), _PAGE)
    return start, start + size


def _page(
    records: list[JobRecord],
    filters: Mapping[str, Any],
    summarize: Callable[[JobRecord], dict[str, Any]],
    key: str,
) -> dict[str, Any]:
    """One page of summaries, filtered by time and sorted as the List* operations do."""
    bounds = {
        "CreationTimeAfter": ("created_at", lambda at, edge: at > edge),
        "CreationTimeBefore": ("created_at", lambda at, edge: at < edge),
        "LastModifiedTimeAfter": ("updated_at", lambda at, edge: at > edge),
        "LastModifiedTimeBefore": ("updated_at", lambda at, edge: at < edge),
    }
    for name, (field, keep) in bounds.items():
        edge = filters.get(name)
        if edge is not None:
            stamp = _epoch(edge, name)
            records = [r for r in records if keep(getattr(r, field), stamp)]
    sort_by = filters.get("SortBy", "CreationTime")
    descending = filters.get("SortOrder", "Descending") == "Descending"
    if sort_by == "Name":
        records = sorted(records, key=lambda r: r.name, reverse=descending)
    elif sort_by == "Status":
        records = sorted(records, key=lambda r: r.status, reverse=descending)
    else:
        records = sorted(records, key=lambda r: r.created_at, reverse=descending)
    start, end = _window(filters)
    response: dict[str, Any] = {key: [summarize(r) for r in records[start:end]]}
    if end < len(records):
        response["NextToken"] = str(end)
    return response


def _epoch(value: Any, name: str) -> float:
    """A time filter as botocore takes it: a datetime (naive: UTC), an ISO string, or epoch
    seconds."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValidationException(
                f"{name} must be a datetime, an ISO 8601 string or epoch seconds, got {value!r}.",
                "ListTrainingJobs",
            ) from None
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    return float(value)


def training_summary(client: LocalClient, record: JobRecord) -> dict[str, Any]:
    """A TrainingJobSummary from the job's row alone (a description also reads its events
    and metrics: a list of many jobs would read them all)."""
    from sageyard.jobs.service import job_arn
    from sageyard.jobs.warm_pools import warm_status

    doc = record.document
    ended = doc.get("training_end_time") or doc.get("end_time")
    summary: dict[str, Any] = {
        "TrainingJobName": record.name,
        "TrainingJobArn": job_arn(client.settings, record.name),
        "CreationTime": datetime.fromtimestamp(record.created_at, UTC),
        "LastModifiedTime": datetime.fromtimestamp(record.updated_at, UTC),
        "TrainingJobStatus": record.status,
        "SecondaryStatus": record.secondary_status,
    }
    if ended is not None:
        summary["TrainingEndTime"] = datetime.fromtimestamp(ended, UTC)
    pool = warm_status(client.training_jobs.store, record)
    if pool is not None:
        summary["WarmPoolStatus"] = pool
    return summary


_TUNING_SUMMARY_KEYS = (
    "HyperParameterTuningJobName",
    "HyperParameterTuningJobArn",
    "HyperParameterTuningJobStatus",
    "CreationTime",
    "HyperParameterTuningEndTime",
    "LastModifiedTime",
    "TrainingJobStatusCounters",
    "ObjectiveStatusCounters",
)


def tuning_summary(description: Mapping[str, Any]) -> dict[str, Any]:
    """A HyperParameterTuningJobSummary from a DescribeHyperParameterTuningJob response."""
    summary = {k: description[k] for k in _TUNING_SUMMARY_KEYS if description.get(k) is not None}
    config = description.get("HyperParameterTuningJobConfig", {})
    summary["Strategy"] = config.get("Strategy")
    summary["ResourceLimits"] = config.get("ResourceLimits")
    return {k: v for k, v in summary.items() if v is not None}
