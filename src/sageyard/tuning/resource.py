"""``HyperParameterTuningJob``: a handle on one tuning job, readable from any process.

Like the real SDK's resource it is created with :meth:`HyperParameterTuningJob.create`
(CreateHyperParameterTuningJob's fields in snake_case), read with ``get``/``get_all``,
followed with ``wait`` and ended with ``stop``/``delete``.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any, TextIO

from sageyard.core._resource_args import (
    api_arguments,
    check_fields,
    one_of,
    wait_for_delete,
)
from sageyard.core.exceptions import (
    ResourceInUse,
    ResourceNotFound,
    TimeoutExceededError,
    TuningJobFailedError,
)
from sageyard.core.settings import Settings, settings_of
from sageyard.core.shapes import pascal_case
from sageyard.core.shapes._described import Described, described
from sageyard.jobs.doorbell import Doorbell
from sageyard.jobs.service import default_bucket
from sageyard.jobs.states import ACTIVE
from sageyard.store import JobRecord
from sageyard.tuning.remote import RemoteTuningJobs, TuningJobs, tuning_jobs_for
from sageyard.tuning.service import TUNING_JOB_STATUSES, TuningJobService

logger = logging.getLogger(__name__)

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

    def __init__(
        self,
        hyper_parameter_tuning_job_name: str,
        service: TuningJobs | None = None,
        **fields: Any,
    ) -> None:
        check_fields("HyperParameterTuningJob", fields, TUNING_JOB_FIELDS)
        self.hyper_parameter_tuning_job_name = hyper_parameter_tuning_job_name
        self._service = service or tuning_jobs_for(Settings.from_env())
        # until refresh(): what the constructor was given, as a description holds it
        self._description: dict[str, Any] = {pascal_case(k): v for k, v in fields.items()}

    @classmethod
    def create(
        cls,
        hyper_parameter_tuning_job_name: str,
        hyper_parameter_tuning_job_config: Any,
        training_job_definition: Any = None,
        training_job_definitions: list[Any] | None = None,
        warm_start_config: Any = None,
        tags: list[Any] | None = None,
        autotune: Any = None,
        session: Any = None,
        region: Any = None,
    ) -> HyperParameterTuningJob:
        """CreateHyperParameterTuningJob, then the new tuning job (as the real ``create``).

        Each argument is a shape, or a dict of its fields in snake_case (or PascalCase);
        together they are the request the tuning service validates
        (``sageyard/tuning/request.py``) before anything is written. Its trials are real
        training jobs, launched by the tuning job's own supervisor.

        Example:
            >>> job = HyperParameterTuningJob.create(  # doctest: +SKIP
            ...     hyper_parameter_tuning_job_name="xgb-tuning",
            ...     hyper_parameter_tuning_job_config={
            ...         "strategy": "Random",
            ...         "hyper_parameter_tuning_job_objective": {
            ...             "type": "Minimize", "metric_name": "validation:logloss"},
            ...         "resource_limits": {"max_number_of_training_jobs": 4,
            ...                             "max_parallel_training_jobs": 2},
            ...         "parameter_ranges": {"continuous_parameter_ranges": [
            ...             {"name": "eta", "min_value": "0.1", "max_value": "0.5"}]},
            ...     },
            ...     training_job_definition={...},  # as TrainingJob.create's fields
            ... )
            >>> job.wait()  # doctest: +SKIP

        Raises:
            ValueError: The request breaks a rule (a ConfigurationError; nothing is written).
            botocore.exceptions.ClientError: ResourceInUse (the name is taken),
                ResourceLimitExceeded, or ResourceNotFound (a warm-start parent).
        """
        arguments = {k: v for k, v in locals().items() if k not in ("cls", "session", "region")}
        service = tuning_jobs_for(settings_of(session))
        service.create_hyper_parameter_tuning_job(api_arguments(arguments))
        return cls.get(hyper_parameter_tuning_job_name, session=session, region=region)

    @classmethod
    def get(
        cls, hyper_parameter_tuning_job_name: str, session: Any = None, region: Any = None
    ) -> HyperParameterTuningJob:
        """Load a tuning job by name (ResourceNotFound, a ClientError, if there is none)."""
        service = tuning_jobs_for(settings_of(session))
        return cls(hyper_parameter_tuning_job_name, service).refresh()

    @classmethod
    def get_all(
        cls,
        sort_by: str | None = None,
        sort_order: str | None = None,
        name_contains: str | None = None,
        creation_time_after: datetime | None = None,
        creation_time_before: datetime | None = None,
        last_modified_time_after: datetime | None = None,
        last_modified_time_before: datetime | None = None,
        status_equals: str | None = None,
        session: Any = None,
        region: Any = None,
    ) -> Iterator[HyperParameterTuningJob]:
        """Every tuning job that matches every filter, as ListHyperParameterTuningJobs has
        them: times strictly after/before (a naive datetime is UTC); ``sort_by`` is
        ``CreationTime`` (the default: newest first without ``sort_order``), ``Name`` or
        ``Status`` (ascending without ``sort_order``).

        Raises:
            ValueError: A filter has a value the real API refuses (ConfigurationError).
        """
        one_of(status_equals, TUNING_JOB_STATUSES, "status_equals")
        service = tuning_jobs_for(settings_of(session))
        names = service.list_names(
            creation_time_after=creation_time_after,
            creation_time_before=creation_time_before,
            last_modified_time_after=last_modified_time_after,
            last_modified_time_before=last_modified_time_before,
            name_contains=name_contains,
            status_equals=status_equals,
            sort_by=sort_by,
            sort_order=sort_order,
        )
        found = []
        for name in names:
            with contextlib.suppress(ResourceNotFound):  # deleted since it was listed
                found.append(cls(name, service).refresh())
        return iter(found)

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

    def get_name(self) -> str:
        return self.hyper_parameter_tuning_job_name

    def refresh(self) -> HyperParameterTuningJob:
        self._description = self._service.describe(self.name)
        return self

    @property
    def hyper_parameter_tuning_job_status(self) -> str | None:
        return self._description.get("HyperParameterTuningJobStatus")

    @property
    def best_training_job(self) -> Any:
        return described(self._description.get("BestTrainingJob"))

    @property
    def failure_reason(self) -> str | None:
        return self._description.get("FailureReason")

    def describe(self) -> dict[str, Any]:
        return dict(self.refresh()._description)

    def stop(self) -> None:
        self._service.stop(self.name)

    def delete(self) -> None:
        """DeleteHyperParameterTuningJob: forget a tuning job that has ended.

        As on SageMaker only the tuning job's own entry goes (its record, its search
        journal, its supervisor's log, sageyard's copy of its trainers' local code): its
        trials stay, as training jobs of their own, with their artifacts. Its name is free
        for a new tuning job.

        Raises:
            botocore.exceptions.ClientError: ResourceInUse for a tuning job that is still
                InProgress or Stopping (stop it and wait for it first); ResourceNotFound.
        """
        if isinstance(self._service, RemoteTuningJobs):
            self._service.delete(self.name)
            return
        record = self._service.get(self.name)
        if record.status in ACTIVE:
            raise _in_use(self.name, record.status)
        removed = self._service.store.delete(
            self.name, expect_status=frozenset(TUNING_JOB_STATUSES) - ACTIVE
        )
        if removed is None:  # resumed meanwhile
            raise _in_use(self.name, "running again")
        shutil.rmtree(self._service.settings.jobs_dir / self.name, ignore_errors=True)
        self._forget_code_snapshots(removed)
        logger.info("Deleted tuning job %s", self.name)

    def _forget_code_snapshots(self, record: JobRecord) -> None:
        """Remove the code the service snapshotted for the trials (``<name>/*/input/code``)."""
        assert isinstance(self._service, TuningJobService)
        prefix = f"s3://{default_bucket(self._service.settings)}/{record.name}/"
        objects = self._service.objects
        for definition in record.document.get("spec", {}).get("definitions", []):
            code_uri = (definition.get("template") or {}).get("code_uri") or ""
            if code_uri.startswith(prefix) and code_uri.endswith("/input/code"):
                for uri in objects.list(code_uri + "/"):
                    objects.delete(uri)

    def wait_for_delete(self, poll: float = 5, timeout: float | None = None) -> None:
        """Block until the tuning job is gone (``delete()`` removes it at once).

        Raises:
            TimeoutExceededError: ``timeout`` seconds passed first (also a TimeoutError).
        """
        wait_for_delete(
            "HyperParameterTuningJob", lambda: self._service.status(self.name), poll, timeout
        )

    def wait(
        self,
        poll: float = 0.1,
        timeout: float | None = None,
        progress: bool = False,
        out: TextIO | None = None,
    ) -> None:
        """Block until the tuning job ends (seen at once: its supervisor rings the job's
        doorbell, ``jobs/doorbell.py``; polls every ``poll`` seconds besides).

        Raises:
            TuningJobFailedError: It ended Failed (a FailedStatusError, and a botocore
                WaiterError).
            TimeoutExceededError: ``timeout`` seconds passed first (also a TimeoutError).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._service.doorbell(self.name) as bell:
            self._wait(bell, poll, deadline, progress, out)
        self.refresh()
        if self.hyper_parameter_tuning_job_status == "Failed":
            raise TuningJobFailedError(self.name, "Failed", self.failure_reason)

    def _wait(
        self,
        bell: Doorbell,
        poll: float,
        deadline: float | None,
        progress: bool,
        out: TextIO | None,
    ) -> None:
        interval, shown = (poll if bell.ready and not progress else 0.02), ""
        while True:
            status = self._service.status(self.name)
            if progress:
                line = self._progress_line()
                if line != shown:
                    (out or sys.stdout).write(line + "\n")
                    shown = line
            if status not in ACTIVE:
                return
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                raise TimeoutExceededError(
                    "HyperParameterTuningJob",
                    status,
                    message=f"Tuning job {self.name} is still running; increase the timeout "
                    "and try again.",
                )
            bell.wait(interval if deadline is None else min(interval, deadline - now))
            interval = min(interval * 1.5, poll)

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


def _in_use(name: str, status: str) -> ResourceInUse:
    return ResourceInUse(
        f"Tuning job {name!r} is {status}; only a tuning job that has ended can be deleted. "
        "Stop it with job.stop(), wait for it with job.wait(), then delete it.",
        "DeleteHyperParameterTuningJob",
    )
