"""SageMaker's training and tuning operations over sageyard's services: one implementation
for ``Session.sagemaker_client`` (``sagemaker_client.py``, boto3's calling convention)
and ``sageyard server`` (``server/app.py``, SageMaker's JSON 1.1 protocol).

Each operation is a function of the client (``train/client.py``: the same services the
facade calls) and the request, in the operation's input shape; it answers the output
shape, timestamps as datetimes (the server writes them as epoch seconds, which botocore
parses). :data:`OPERATIONS` maps SageMaker's operation names to them. List operations
validate their filters and page with ``MaxResults`` (1-100) and an opaque ``NextToken``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from sageyard.core.exceptions import ValidationException
from sageyard.store import JobRecord
from sageyard.train.client import LocalClient

__all__ = [
    "DEFAULT_PAGE",
    "LARGEST_PAGE",
    "OPERATIONS",
    "SAGEYARD_OPERATIONS",
    "Operation",
    "create_hyper_parameter_tuning_job",
    "create_training_job",
    "delete_hyper_parameter_tuning_job",
    "delete_training_job",
    "describe_hyper_parameter_tuning_job",
    "describe_training_job",
    "list_hyper_parameter_tuning_jobs",
    "list_training_jobs",
    "list_training_jobs_for_hyper_parameter_tuning_job",
    "page_of",
    "paged",
    "request_time",
    "required_name",
    "stop_hyper_parameter_tuning_job",
    "stop_training_job",
    "training_summary",
    "tuning_summary",
    "update_training_job",
    "validate_training_job",
]

Operation = Callable[[LocalClient, Mapping[str, Any]], dict[str, Any]]

#: ListTrainingJobs and the other list operations: SageMaker's default and largest page.
DEFAULT_PAGE, LARGEST_PAGE = 10, 100


def required_name(request: Mapping[str, Any], field: str) -> str:
    value = request.get(field)
    if not isinstance(value, str) or not value:
        raise ValidationException(f"{field} is required: the name of the job, a string.")
    return value


def request_time(request: Mapping[str, Any], field: str) -> datetime | None:
    """A request timestamp as an aware datetime: epoch seconds (as botocore sends them), a
    datetime (naive: UTC) or an ISO 8601 string (as boto3 callers give them)."""
    value = request.get(field)
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    message = f"{field} must be a timestamp (epoch seconds or ISO 8601), not {value!r}."
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValidationException(message)
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except (OverflowError, ValueError):
        pass
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise ValidationException(message) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def page_of(request: Mapping[str, Any], items: list[Any]) -> tuple[list[Any], str | None]:
    """The page of ``items`` the request's NextToken and MaxResults select, and the token of
    the next page (``None`` after the last)."""
    size = request.get("MaxResults", DEFAULT_PAGE)
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= LARGEST_PAGE:
        raise ValidationException(
            f"MaxResults must be an integer from 1 to {LARGEST_PAGE}, not {size!r}."
        )
    start = 0
    token = request.get("NextToken")
    if token:
        try:
            start = int(json.loads(base64.urlsafe_b64decode(str(token)))["offset"])
        except (ValueError, KeyError, TypeError):
            raise ValidationException(
                f"NextToken {token!r} is not one this server gave: pass the NextToken of the "
                "previous page, or none for the first."
            ) from None
    end = start + size
    following = None
    if end < len(items):
        following = base64.urlsafe_b64encode(json.dumps({"offset": end}).encode()).decode()
    return items[start:end], following


def paged(
    request: Mapping[str, Any],
    items: list[Any],
    key: str,
    summarize: Callable[[Any], Any] = lambda item: item,
) -> dict[str, Any]:
    """A List operation's answer: the page of ``items`` (each summarised) under ``key``, and
    the next page's ``NextToken`` unless it is the last."""
    page, following = page_of(request, items)
    answer: dict[str, Any] = {key: [summarize(item) for item in page]}
    if following:
        answer["NextToken"] = following
    return answer


def _listed(request: Mapping[str, Any], records: list[Any], statuses: Any) -> list[Any]:
    from sageyard.core._resource_args import listed_jobs

    return listed_jobs(
        records,
        statuses,
        creation_time_after=request_time(request, "CreationTimeAfter"),
        creation_time_before=request_time(request, "CreationTimeBefore"),
        last_modified_time_after=request_time(request, "LastModifiedTimeAfter"),
        last_modified_time_before=request_time(request, "LastModifiedTimeBefore"),
        status_equals=request.get("StatusEquals"),
        sort_by=request.get("SortBy"),
        sort_order=request.get("SortOrder"),
    )


# -- training jobs ---------------------------------------------------------------------------


def create_training_job(client: LocalClient, request: Mapping[str, Any]) -> dict[str, Any]:
    created = client.create_training_job(request)
    return {"TrainingJobArn": created["TrainingJobArn"]}


def validate_training_job(client: LocalClient, request: Mapping[str, Any]) -> dict[str, Any]:
    """``Sageyard.ValidateTrainingJob``: every check CreateTrainingJob makes, creating
    nothing (``ModelTrainer.train(dry_run=True)`` through a server)."""
    client.validate_training_job(request)
    return {}


def update_training_job(client: LocalClient, request: Mapping[str, Any]) -> dict[str, Any]:
    """UpdateTrainingJob: a warm pool's keep-alive period, the remote debug setting."""
    from sageyard.jobs.resource import TrainingJob

    name = required_name(request, "TrainingJobName")
    job = TrainingJob(name, client.training_jobs).update(
        profiler_config=request.get("ProfilerConfig"),
        profiler_rule_configurations=request.get("ProfilerRuleConfigurations"),
        resource_config=request.get("ResourceConfig"),
        remote_debug_config=request.get("RemoteDebugConfig"),
    )
    return {"TrainingJobArn": job.training_job_arn}


def delete_training_job(client: LocalClient, request: Mapping[str, Any]) -> dict[str, Any]:
    from sageyard.jobs.resource import TrainingJob

    TrainingJob(required_name(request, "TrainingJobName"), client.training_jobs).delete()
    return {}


def describe_training_job(client: LocalClient, request: Mapping[str, Any]) -> dict[str, Any]:
    return client.training_jobs.describe(required_name(request, "TrainingJobName"))


def stop_training_job(client: LocalClient, request: Mapping[str, Any]) -> dict[str, Any]:
    client.training_jobs.stop(required_name(request, "TrainingJobName"))
    return {}


def list_training_jobs(client: LocalClient, request: Mapping[str, Any]) -> dict[str, Any]:
    from sageyard.jobs.states import JOB_STATUSES
    from sageyard.jobs.warm_pools import warm_status

    service = client.training_jobs
    records = _listed(
        request, service.list_jobs(name_contains=request.get("NameContains")), JOB_STATUSES
    )
    if request.get("TrainingPlanArnEquals") is not None:  # sageyard runs no training plans
        records = []
    pool = request.get("WarmPoolStatusEquals")
    if pool is not None:  # a filter on what only the pools' rows say: every job is read
        records = [
            r for r in records if (warm_status(service.store, r) or {}).get("Status") == pool
        ]
    return paged(
        request, records, "TrainingJobSummaries", lambda record: training_summary(client, record)
    )


# -- tuning jobs -----------------------------------------------------------------------------


def create_hyper_parameter_tuning_job(
    client: LocalClient, request: Mapping[str, Any]
) -> dict[str, Any]:
    created = client.create_hyper_parameter_tuning_job(request)
    return {"HyperParameterTuningJobArn": created["HyperParameterTuningJobArn"]}


def describe_hyper_parameter_tuning_job(
    client: LocalClient, request: Mapping[str, Any]
) -> dict[str, Any]:
    return client.tuning_jobs.describe(required_name(request, "HyperParameterTuningJobName"))


def stop_hyper_parameter_tuning_job(
    client: LocalClient, request: Mapping[str, Any]
) -> dict[str, Any]:
    client.tuning_jobs.stop(required_name(request, "HyperParameterTuningJobName"))
    return {}


def delete_hyper_parameter_tuning_job(
    client: LocalClient, request: Mapping[str, Any]
) -> dict[str, Any]:
    from sageyard.tuning.resource import HyperParameterTuningJob

    name = required_name(request, "HyperParameterTuningJobName")
    HyperParameterTuningJob(name, client.tuning_jobs).delete()
    return {}


def list_hyper_parameter_tuning_jobs(
    client: LocalClient, request: Mapping[str, Any]
) -> dict[str, Any]:
    from sageyard.tuning.service import TUNING_JOB_STATUSES

    service = client.tuning_jobs
    records = _listed(
        request, service.list_jobs(name_contains=request.get("NameContains")), TUNING_JOB_STATUSES
    )
    return paged(
        request,
        records,
        "HyperParameterTuningJobSummaries",
        lambda record: tuning_summary(service.describe(record.name)),
    )


def list_training_jobs_for_hyper_parameter_tuning_job(
    client: LocalClient, request: Mapping[str, Any]
) -> dict[str, Any]:
    summaries = client.tuning_jobs.summaries(
        required_name(request, "HyperParameterTuningJobName"),
        request.get("StatusEquals"),
        request.get("SortBy"),
        request.get("SortOrder"),
    )
    return paged(request, summaries, "TrainingJobSummaries")


#: SageMaker's operations this server answers, by name.
OPERATIONS: dict[str, Operation] = {
    "CreateTrainingJob": create_training_job,
    "DescribeTrainingJob": describe_training_job,
    "StopTrainingJob": stop_training_job,
    "UpdateTrainingJob": update_training_job,
    "DeleteTrainingJob": delete_training_job,
    "ListTrainingJobs": list_training_jobs,
    "CreateHyperParameterTuningJob": create_hyper_parameter_tuning_job,
    "DescribeHyperParameterTuningJob": describe_hyper_parameter_tuning_job,
    "StopHyperParameterTuningJob": stop_hyper_parameter_tuning_job,
    "DeleteHyperParameterTuningJob": delete_hyper_parameter_tuning_job,
    "ListHyperParameterTuningJobs": list_hyper_parameter_tuning_jobs,
    "ListTrainingJobsForHyperParameterTuningJob": (
        list_training_jobs_for_hyper_parameter_tuning_job
    ),
}

#: sageyard's own operations (``X-Amz-Target: Sageyard.<Operation>``), which sageyard's
#: facade calls through a server (``jobs/remote.py``).
SAGEYARD_OPERATIONS: dict[str, Operation] = {"ValidateTrainingJob": validate_training_job}


# -- summaries -------------------------------------------------------------------------------


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
