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
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO

from sageyard.core.exceptions import TrainingJobFailedError
from sageyard.core.settings import Settings
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


class TrainingJob:
    """A training job, as DescribeTrainingJob shows it, with refresh/wait/stop/logs."""

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
    def get(cls, training_job_name: str, session: Any = None) -> TrainingJob:
        """Load a job by name. Raises ResourceNotFound (a ClientError) if there is none."""
        settings = session.settings if session is not None else Settings.from_env()
        return cls(training_job_name, TrainingJobService(settings)).refresh()

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
