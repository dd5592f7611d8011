"""``HyperParameterTuningJob``: a handle on one tuning job, readable from any process."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from sageyard.core.exceptions import TimeoutExceededError, TuningJobFailedError
from sageyard.core.settings import Settings
from sageyard.jobs.states import ACTIVE
from sageyard.tuning.service import TuningJobService


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
    def get(cls, name: str, session: Any = None) -> HyperParameterTuningJob:
        settings = session.settings if session is not None else Settings.from_env()
        return cls(name, TuningJobService(settings)).refresh()

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
