"""SageMaker's JSON 1.1 protocol over sageyard's services.

Each request is ``POST /`` with ``X-Amz-Target: SageMaker.<Operation>`` and a JSON body in
the operation's input shape; the answer is the output shape as JSON, timestamps as epoch
seconds (what botocore parses). :data:`OPERATIONS` maps each operation to a function of
the client (``train/client.py``: the same services the facade calls) and the request.
List operations page with ``MaxResults`` and an opaque ``NextToken``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from sageyard.core.exceptions import ValidationException
from sageyard.train.client import LocalClient
from sageyard.train.sagemaker_client import training_summary, tuning_summary

__all__ = [
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
    "request_time",
    "required_name",
    "stop_hyper_parameter_tuning_job",
    "stop_training_job",
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
    """A request timestamp (epoch seconds, as botocore sends them) as an aware datetime."""
    value = request.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValidationException(f"{field} must be a timestamp in epoch seconds, not {value!r}.")
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except (OverflowError, ValueError):
        raise ValidationException(
            f"{field} must be a timestamp in epoch seconds, not {value!r}."
        ) from None


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
    page, following = page_of(request, records)
    answer: dict[str, Any] = {
        "TrainingJobSummaries": [training_summary(client, record) for record in page]
    }
    if following:
        answer["NextToken"] = following
    return answer


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
    page, following = page_of(request, records)
    summaries = [tuning_summary(service.describe(record.name)) for record in page]
    answer: dict[str, Any] = {"HyperParameterTuningJobSummaries": summaries}
    if following:
        answer["NextToken"] = following
    return answer


def list_training_jobs_for_hyper_parameter_tuning_job(
    client: LocalClient, request: Mapping[str, Any]
) -> dict[str, Any]:
    summaries = client.tuning_jobs.summaries(
        required_name(request, "HyperParameterTuningJobName"),
        request.get("StatusEquals"),
        request.get("SortBy"),
        request.get("SortOrder"),
    )
    page, following = page_of(request, summaries)
    answer: dict[str, Any] = {"TrainingJobSummaries": page}
    if following:
        answer["NextToken"] = following
    return answer


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
