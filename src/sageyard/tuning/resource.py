"""``HyperParameterTuningJob``: a handle on one tuning job, readable from any process."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from typing import Any, TextIO

from sageyard.core.exceptions import TimeoutExceededError, TuningJobFailedError
from sageyard.core.settings import Settings, settings_of
from sageyard.core.shapes._described import Described, described
from sageyard.jobs.states import ACTIVE
from sageyard.tuning.service import TuningJobService

#: The real SDK's HyperParameterTuningJob attributes (sagemaker.core.resources).
TUNING_JOB_FIELDS = (
    "hyper_parameter_tuning_job_name",
    "hyper_parameter_tuning_job_arn",
    "hyper_parameter_tuning_job_config",
    "training_job_definition",
    "training_job_definitions",
    "hyper_parameter_tuning_job_status",
    "creation_time",
    "hyper_parameter_tuning_end_time",
    "last_modified_time",
    "training_job_status_counters",
    "objective_status_counters",
    "best_training_job",
    "overall_best_training_job",
    "warm_start_config",
    "autotune",
    "failure_reason",
    "tuning_job_completion_details",
    "consumed_resources",
)


class HyperParameterTuningJob:
    """A tuning job, as DescribeHyperParameterTuningJob shows it.

    Example:
        >>> job = HyperParameterTuningJob.get("my-tuning-261128003912123")  # doctest: +SKIP
        >>> job.hyper_parameter_tuning_job_status  # doctest: +SKIP
        'Completed'
    """

    def __init__(self, name: str, service: TuningJobService | None = None) -> None:
        self.hyper_parameter_tuning_job_name = name
        self._service = service or TuningJobService(Settings.from_env())
        self._description: dict[str, Any] = {}

    @classmethod
    def get(
        cls, hyper_parameter_tuning_job_name: str, session: Any = None, region: Any = None
    ) -> HyperParameterTuningJob:
        """Load a tuning job by name (ResourceNotFound, a ClientError, if there is none)."""
        service = TuningJobService(settings_of(session))
        return cls(hyper_parameter_tuning_job_name, service).refresh()

    @classmethod
    def get_all(
        cls,
        sort_by: str | None = None,
        sort_order: str | None = None,
        name_contains: str | None = None,
        status_equals: str | None = None,
        session: Any = None,
        region: Any = None,
        **ignored: Any,
    ) -> Iterator[HyperParameterTuningJob]:
        """Every tuning job that matches, newest first (``sort_order="Ascending"``: oldest)."""
        service = TuningJobService(settings_of(session))
        records = service.list_jobs(status=status_equals, name_contains=name_contains)
        if sort_order == "Ascending":
            records = list(reversed(records))
        for record in records:
            yield cls(record.name, service).refresh()

    def get_all_training_jobs(
        self,
        status_equals: str | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
        session: Any = None,
        region: Any = None,
    ) -> list[Any]:
        """The trials' HyperParameterTrainingJobSummary dicts (keys also as attributes):
        all of them, or those with ``status_equals``; ``sort_by="FinalObjectiveMetricValue"``
        puts the best first."""
        summaries = self._service.summaries(self.name, status_equals, sort_by, sort_order)
        return [described(summary) for summary in summaries]

    def __getattr__(self, name: str) -> Any:
        """The real resource's other attributes, from the last description."""
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(Described(self.__dict__.get("_description", {}), TUNING_JOB_FIELDS), name)

    @property
    def name(self) -> str:
        return self.hyper_parameter_tuning_job_name

    def refresh(self) -> HyperParameterTuningJob:
        self._description = self._service.describe(self.name)
        return self

    @property
    def hyper_parameter_tuning_job_status(self) -> str:
        return str(self._description.get("HyperParameterTuningJobStatus", "InProgress"))

    @property
    def best_training_job(self) -> dict[str, Any] | None:
        return self._description.get("BestTrainingJob")

    @property
    def failure_reason(self) -> str | None:
        return self._description.get("FailureReason")

    def describe(self) -> dict[str, Any]:
        return dict(self.refresh()._description)

    def stop(self) -> None:
        self._service.stop(self.name)

    def wait(
        self,
        poll: float = 0.1,
        timeout: float | None = None,
        progress: bool = False,
        out: TextIO | None = None,
    ) -> None:
        """Block until the tuning job ends.

        Raises:
            TuningJobFailedError: It ended Failed (a FailedStatusError, and a botocore
                WaiterError).
            TimeoutExceededError: ``timeout`` seconds passed first (also a TimeoutError).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        interval, shown = 0.02, ""
        while True:
            record = self._service.get(self.name)
            if progress:
                line = self._progress_line()
                if line != shown:
                    (out or sys.stdout).write(line + "\n")
                    shown = line
            if record.status not in ACTIVE:
                break
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutExceededError(
                    "HyperParameterTuningJob",
                    record.status,
                    message=f"Tuning job {self.name} is still running; increase the timeout "
                    "and try again.",
                )
            time.sleep(interval)
            interval = min(interval * 1.5, poll)
        self.refresh()
        if self.hyper_parameter_tuning_job_status == "Failed":
            raise TuningJobFailedError(self.name, "Failed", self.failure_reason)

    def _progress_line(self) -> str:
        d = self.refresh()._description
        counts = d["TrainingJobStatusCounters"]
        best = d.get("BestTrainingJob")
        value = best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] if best else None
        done = counts["Completed"] + counts["Stopped"] + counts["NonRetryableError"]
        limit = d["HyperParameterTuningJobConfig"]["ResourceLimits"]["MaxNumberOfTrainingJobs"]
        return (
            f"{self.name}: {d['HyperParameterTuningJobStatus']} - {done}/{limit} trials done"
            f", {counts['InProgress']} running" + (f", best {value:g}" if best else "")
        )

    def __repr__(self) -> str:
        return f"HyperParameterTuningJob({self.name!r})"
