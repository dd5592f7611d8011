"""``TrainingJob``: a handle on one job in the job store, readable from any process.

Example:
    >>> from sageyard.core.resources import TrainingJob
    >>> job = TrainingJob.get("my-job-20261128-000000-000")  # doctest: +SKIP
    >>> job.training_job_status, job.model_artifacts.s3_model_artifacts  # doctest: +SKIP
    ('Completed', 's3://sagemaker-us-west-2-000000000000/my-job/…/output/model.tar.gz')
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

from sageyard.core.exceptions import TrainingJobFailedError
from sageyard.core.settings import Settings, settings_of
from sageyard.core.shapes import pascal_case
from sageyard.core.shapes._described import described
from sageyard.jobs.service import TrainingJobService
from sageyard.jobs.states import ACTIVE


@dataclass(frozen=True)
class ModelArtifacts:
    s3_model_artifacts: str

    def __str__(self) -> str:
        return self.s3_model_artifacts


@dataclass(frozen=True)
class MetricData:
    metric_name: str
    value: float
    timestamp: datetime | None = None


@dataclass(frozen=True)
class SecondaryStatusTransition:
    status: str
    start_time: datetime | None
    end_time: datetime | None
    status_message: str


#: The real SDK's TrainingJob attributes (sagemaker.core.resources), in its order. Those
#: without a typed attribute below hold the description's value (a dict answers its keys
#: as attributes too), or None when the job has none.
TRAINING_JOB_FIELDS = (
    "training_job_name",
    "training_job_arn",
    "tuning_job_arn",
    "labeling_job_arn",
    "auto_ml_job_arn",
    "model_artifacts",
    "training_job_status",
    "secondary_status",
    "failure_reason",
    "hyper_parameters",
    "algorithm_specification",
    "role_arn",
    "input_data_config",
    "output_data_config",
    "resource_config",
    "warm_pool_status",
    "vpc_config",
    "stopping_condition",
    "creation_time",
    "training_start_time",
    "training_end_time",
    "last_modified_time",
    "secondary_status_transitions",
    "final_metric_data_list",
    "enable_network_isolation",
    "enable_inter_container_traffic_encryption",
    "enable_managed_spot_training",
    "checkpoint_config",
    "training_time_in_seconds",
    "billable_time_in_seconds",
    "billable_token_count",
    "debug_hook_config",
    "experiment_config",
    "debug_rule_configurations",
    "tensor_board_output_config",
    "debug_rule_evaluation_statuses",
    "profiler_config",
    "profiler_rule_configurations",
    "profiler_rule_evaluation_statuses",
    "profiling_status",
    "environment",
    "retry_strategy",
    "remote_debug_config",
    "infra_check_config",
    "serverless_job_config",
    "mlflow_config",
    "model_package_config",
    "mlflow_details",
    "progress_info",
    "output_model_package_arn",
)


#: The attributes refresh() sets with types of their own (the rest come from the description).
_TYPED = frozenset(
    {
        "training_job_name",
        "training_job_arn",
        "training_job_status",
        "secondary_status",
        "failure_reason",
        "model_artifacts",
        "final_metric_data_list",
        "hyper_parameters",
        "secondary_status_transitions",
        "creation_time",
        "training_start_time",
        "training_end_time",
        "last_modified_time",
        "training_time_in_seconds",
        "billable_time_in_seconds",
        "role_arn",
        "output_model_package_arn",
    }
)


class TrainingJob:
    """A training job, as DescribeTrainingJob shows it, with refresh/wait/stop/logs.

    Every attribute of the real SDK's ``TrainingJob`` is there after :meth:`refresh`
    (:data:`TRAINING_JOB_FIELDS`), in snake_case.
    """

    training_job_name: str
    training_job_arn: str
    training_job_status: str
    secondary_status: str | None
    failure_reason: str | None
    model_artifacts: ModelArtifacts | None
    final_metric_data_list: list[MetricData]
    hyper_parameters: dict[str, str]
    secondary_status_transitions: list[SecondaryStatusTransition]
    creation_time: datetime | None
    training_start_time: datetime | None
    training_end_time: datetime | None
    last_modified_time: datetime | None
    training_time_in_seconds: int | None
    billable_time_in_seconds: int | None
    role_arn: str | None
    warnings: list[str]
    output_model_package_arn: str | None

    def __init__(self, training_job_name: str, service: TrainingJobService | None = None) -> None:
        self.training_job_name = training_job_name
        self._service = service or TrainingJobService(Settings.from_env())
        self._description: dict[str, Any] = {}

    @classmethod
    def get(cls, training_job_name: str, session: Any = None, region: Any = None) -> TrainingJob:
        """Load a job by name. Raises ResourceNotFound (a ClientError) if there is none.

        ``session`` is a sageyard Session (a boto3 session, as the real SDK takes, is
        ignored: the jobs are this store's); ``region`` is accepted and not used.
        """
        return cls(training_job_name, TrainingJobService(settings_of(session))).refresh()

    @classmethod
    def get_all(
        cls,
        creation_time_after: datetime | None = None,
        creation_time_before: datetime | None = None,
        last_modified_time_after: datetime | None = None,
        last_modified_time_before: datetime | None = None,
        name_contains: str | None = None,
        status_equals: str | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
        session: Any = None,
        region: Any = None,
        **ignored: Any,
    ) -> Iterator[TrainingJob]:
        """Every training job that matches, newest first (``sort_order="Ascending"``: oldest
        first), as the real SDK's iterator gives them; ``sort_by`` is CreationTime."""
        service = TrainingJobService(settings_of(session))
        records = service.list_jobs(status=status_equals, name_contains=name_contains)
        if sort_order == "Ascending":
            records = list(reversed(records))
        for record in records:
            created, modified = _utc(record.created_at), _utc(record.updated_at)
            if creation_time_after and created <= creation_time_after:
                continue
            if creation_time_before and created >= creation_time_before:
                continue
            if last_modified_time_after and modified <= last_modified_time_after:
                continue
            if last_modified_time_before and modified >= last_modified_time_before:
                continue
            yield cls(record.name, service).refresh()

    def refresh(self) -> TrainingJob:
        d = self._service.describe(self.training_job_name)
        self._description = d
        self.training_job_arn = d["TrainingJobArn"]
        self.training_job_status = d["TrainingJobStatus"]
        self.secondary_status = d.get("SecondaryStatus")
        self.failure_reason = d.get("FailureReason")
        artifacts = d.get("ModelArtifacts")
        self.model_artifacts = ModelArtifacts(artifacts["S3ModelArtifacts"]) if artifacts else None
        self.final_metric_data_list = [
            MetricData(m["MetricName"], m["Value"], m.get("Timestamp"))
            for m in d.get("FinalMetricDataList", [])
        ]
        self.hyper_parameters = dict(d.get("HyperParameters", {}))
        self.secondary_status_transitions = [
            SecondaryStatusTransition(
                t["Status"], t.get("StartTime"), t.get("EndTime"), t.get("StatusMessage", "")
            )
            for t in d.get("SecondaryStatusTransitions", [])
        ]
        self.creation_time = d.get("CreationTime")
        self.training_start_time = d.get("TrainingStartTime")
        self.training_end_time = d.get("TrainingEndTime")
        self.last_modified_time = d.get("LastModifiedTime")
        self.training_time_in_seconds = d.get("TrainingTimeInSeconds")
        self.billable_time_in_seconds = d.get("BillableTimeInSeconds")
        self.role_arn = d.get("RoleArn")
        self.warnings = list(d.get("Warnings", []))
        self.output_model_package_arn = d.get("OutputModelPackageArn")
        for field in TRAINING_JOB_FIELDS:  # the rest of the real resource's attributes
            if field not in _TYPED:
                setattr(self, field, described(d.get(pascal_case(field))))
        return self

    def describe(self) -> dict[str, Any]:
        """The DescribeTrainingJob-shaped dict (secrets in Environment masked)."""
        return dict(self.refresh()._description)

    def metrics(self, metric_name: str | None = None) -> list[MetricData]:
        """The whole time series of the job's metrics (every match, in order)."""
        from datetime import UTC

        return [
            MetricData(p.metric_name, p.value, datetime.fromtimestamp(p.at, UTC))
            for p in self._service.metrics(self.training_job_name, metric_name)
        ]

    def stop(self) -> None:
        """Stop the job: SIGTERM to its processes, then SIGKILL after the grace period."""
        self._service.stop(self.training_job_name)

    def logs(self, follow: bool = False) -> list[str]:
        """The job's log lines so far (``follow=True`` waits for the job to end)."""
        from sageyard.jobs.follow import log_lines

        return list(log_lines(self._service, self.training_job_name, follow=follow))

    def wait(
        self,
        poll: float = 0.2,
        timeout: float | None = None,
        logs: bool = False,
        out: TextIO | None = None,
    ) -> None:
        """Block until the job ends; stream its logs when ``logs`` is true.

        Raises:
            TrainingJobFailedError: The job ended Failed (also a RuntimeError).
            TimeoutExceededError: ``timeout`` seconds passed first (also a TimeoutError).
        """
        from sageyard.jobs.follow import follow_job

        deadline = None if timeout is None else time.monotonic() + timeout
        follow_job(
            self._service,
            self.training_job_name,
            logs=logs,
            out=out or sys.stdout,
            deadline=deadline,
            poll=poll,
        )
        self.refresh()
        if self.training_job_status == "Failed":
            raise TrainingJobFailedError(
                self.training_job_name, self.training_job_status, self.failure_reason
            )

    @property
    def is_active(self) -> bool:
        return self.training_job_status in ACTIVE

    def __repr__(self) -> str:
        status = getattr(self, "training_job_status", "?")
        return f"TrainingJob(training_job_name={self.training_job_name!r}, status={status!r})"


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
