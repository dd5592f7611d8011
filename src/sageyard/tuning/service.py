"""The tuning-job service: create, read, stop and summarise tuning jobs in the job store.

A tuning job's trials are training jobs whose ``parent`` is the tuning job; their
``tuning`` document field says which trial and training definition they are.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sageyard.core.exceptions import ValidationException
from sageyard.core.settings import Settings
from sageyard.jobs.doorbell import Doorbell, doorbell_path
from sageyard.jobs.launch import launch_supervisor
from sageyard.jobs.records import JobRecords
from sageyard.jobs.service import (
    Launcher,
    TrainingJobService,
    default_bucket,
    job_arn,
    snapshot_code,
)
from sageyard.jobs.states import ACTIVE
from sageyard.storage import ObjectStore
from sageyard.store import JobRecord, JobStore
from sageyard.tuning.spec import KIND, TrainingDefinition, TuningJobSpec

logger = logging.getLogger(__name__)

MAX_NAME = 32  # as SageMaker: HyperParameterTuningJobName has at most 32 characters
#: What the FailureReason of a tuning job whose supervisor died says (``JobRecords``).
INTERRUPTED = "the tuning job was interrupted"


def tuning_job_name(base: str, now: float) -> str:
    """``<base>-<yymmddHHMMSSmmm>``, the base cut so the whole fits in 32 characters."""
    stamp = datetime.fromtimestamp(now, UTC).strftime("%y%m%d%H%M%S")
    suffix = f"-{stamp}{int(now * 1000) % 1000:03d}"
    return base[: MAX_NAME - len(suffix)].rstrip("-") + suffix


def tuning_arn(settings: Settings, name: str) -> str:
    return (
        f"arn:aws:sagemaker:{settings.region}:{settings.account_id}:"
        f"hyper-parameter-tuning-job/{name}"
    )


def _when(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


#: ListHyperParameterTuningJobs' StatusEquals values and sort keys.
TUNING_JOB_STATUSES = (
    "Completed",
    "InProgress",
    "Failed",
    "Stopped",
    "Stopping",
    "Deleting",
    "DeleteFailed",
)


class TuningJobService(JobRecords):
    """Tuning jobs over the job store. Construction does no I/O."""

    KIND = KIND
    NOUN = "Tuning job"
    DESCRIBE_OPERATION = "DescribeHyperParameterTuningJob"
    CLI_LIST = "sageyard tuning list"

    def __init__(self, settings: Settings, launcher: Launcher = launch_supervisor) -> None:
        self.settings = settings
        self.jobs = TrainingJobService(settings, launcher)

    @property
    def store(self) -> JobStore:
        return self.jobs.store

    @property
    def objects(self) -> ObjectStore:
        return self.jobs.objects

    # -- create ------------------------------------------------------------------------------

    def create_hyper_parameter_tuning_job(self, request: Mapping[str, Any]) -> JobRecord:
        """CreateHyperParameterTuningJob: validate ``request`` (see ``tuning/request.py``),
        then create the tuning job and start its supervisor.

        Raises:
            ValueError: The request breaks a rule (a ConfigurationError; nothing is written).
            botocore.exceptions.ClientError: ResourceLimitExceeded; ResourceNotFound for a
                warm-start parent that does not exist; ResourceInUse for a
                HyperParameterTuningJobName that is taken.
        """
        from sageyard.tuning.request import validate_tuning_job  # not a supervisor's import

        job = validate_tuning_job(request, self.settings, self.objects, parents=self.get)
        return self.create(job.spec, base_name=job.base_name, sources=job.sources)

    def create(
        self,
        spec: TuningJobSpec,
        *,
        base_name: str | None,
        sources: dict[str | None, tuple[Path, list[str] | None]],
    ) -> JobRecord:
        """Persist a validated tuning job, snapshot each trainer's code, start its supervisor.

        For a spec that already passed ``validate_tuning_job``.

        ``sources`` maps a training definition's name to its ``source_dir`` (and ignore
        patterns): the code is snapshotted once and every trial runs that snapshot.
        """

        def build(name: str, now: float) -> JobRecord:
            named = self._named(spec, name, sources)
            return JobRecord(
                name=name,
                kind=KIND,
                status="InProgress",
                secondary_status=None,
                parent=None,
                created_at=now,
                updated_at=now,
                heartbeat_at=now,
                owner=None,
                document={"spec": named.model_dump(mode="json")},
            )

        record = self.insert_new(
            spec.tuning_job_name,
            base_name,
            tuning_job_name,
            build,
            "CreateHyperParameterTuningJob",
        )
        name = record.name
        named = self.spec(record)
        try:
            for definition in named.definitions:
                if definition.name in sources and definition.template.code_uri:
                    folder, ignore = sources[definition.name]
                    snapshot_code(self.objects, folder, definition.template.code_uri, ignore)
            launch_supervisor(
                self.settings, name, self.settings.jobs_dir / name / "supervisor.log", kind="tuning"
            )
        except Exception as error:
            self.fail_to_start(record, error)
            raise
        return record

    def _named(
        self, spec: TuningJobSpec, name: str, sources: dict[str | None, Any]
    ) -> TuningJobSpec:
        definitions = []
        for definition in spec.definitions:
            template = definition.template
            if definition.name in sources:
                folder = definition.name or "code"
                code_uri = f"s3://{default_bucket(self.settings)}/{name}/{folder}/input/code"
                template = template.model_copy(update={"code_uri": code_uri})
            definitions.append(definition.model_copy(update={"template": template}))
        request = {**spec.request, "HyperParameterTuningJobName": name}
        return spec.model_copy(
            update={"tuning_job_name": name, "definitions": definitions, "request": request}
        )

    # -- read --------------------------------------------------------------------------------

    def _interruption_advice(self) -> str:
        return (
            ". Its trials are kept; `sageyard tuning resume NAME` goes on with the same "
            "search (or start a new tuning job with warm start from this one)."
        )

    # -- resume ------------------------------------------------------------------------------

    def resume(self, name: str) -> JobRecord:
        """Go on with a tuning job whose supervisor was interrupted (it died, or its machine
        did): a new supervisor replays the job's Optuna journal, follows the trials still
        running and launches the rest, up to the same MaxNumberOfTrainingJobs.

        Raises:
            ValidationException: The tuning job is running, or ended otherwise (completed,
                stopped, or failed because its training jobs did).
        """
        record = self.get(name)
        reason = record.document.get("failure_reason") or ""
        if record.status in ACTIVE:
            raise ValidationException(
                f"Tuning job {name!r} is {record.status} and its supervisor is alive; there "
                "is nothing to resume.",
                "ResumeHyperParameterTuningJob",
            )
        if record.status != "Failed" or INTERRUPTED not in reason:
            ended = f"{record.status}: {reason}" if reason else record.status
            raise ValidationException(
                f"Tuning job {name!r} ended {ended}. Only a tuning job whose supervisor was "
                "interrupted can be resumed; start a new tuning job with warm start from "
                "this one to search on.",
                "ResumeHyperParameterTuningJob",
            )
        now = time.time()
        resumed = self.store.update(
            name,
            status="InProgress",
            owner="",  # no supervisor yet: only a stale heartbeat counts until one claims it
            heartbeat_at=now,
            document_patch={
                "failure_reason": None,
                "end_time": None,
                "resumed": [
                    *record.document.get("resumed", []),
                    {"at": time.time(), "after": reason},
                ],
            },
            expect_status={"Failed"},
        )
        if resumed is None:
            raise ValidationException(
                f"Tuning job {name!r} changed while it was being resumed; look at it again "
                f"with `sageyard tuning describe {name}`.",
                "ResumeHyperParameterTuningJob",
            )
        launch_supervisor(
            self.settings, name, self.settings.jobs_dir / name / "supervisor.log", kind="tuning"
        )
        return resumed

    def _after_interrupted(self, record: JobRecord, reason: str, gone: bool) -> None:
        for trial in self.trials(record.name):  # a failed tuning job runs no more trials
            if trial.status == "InProgress":
                # a trial can end between the listing and the stop: then there is nothing
                # to stop
                with contextlib.suppress(ValidationException):
                    self.jobs.stop(trial.name)

    def trials(self, name: str) -> list[JobRecord]:
        """The tuning job's training jobs, in the order they were created."""
        records = self.store.list("TrainingJob", parent=name, newest_first=False)
        return [self.jobs.reconcile(record) for record in records]

    def spec(self, record: JobRecord) -> TuningJobSpec:
        return TuningJobSpec.model_validate(record.document["spec"])

    # -- summaries ---------------------------------------------------------------------------

    def summaries(
        self,
        name: str,
        status: str | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
    ) -> list[dict[str, Any]]:
        """ListTrainingJobsForHyperParameterTuningJob: one summary per trial, in creation
        order; only those of ``status``; ``sort_by="FinalObjectiveMetricValue"``: the best
        first (``sort_order="Ascending"``: the worst), trials without a value last."""
        spec = self.spec(self.get(name))
        summaries = [self.summary(spec, trial) for trial in self.trials(name)]
        if status is not None:
            summaries = [s for s in summaries if s.get("TrainingJobStatus") == status]
        if sort_by == "FinalObjectiveMetricValue":
            key = "FinalHyperParameterTuningJobObjectiveMetric"
            best_first = (spec.objective_type == "Maximize") == (sort_order != "Ascending")
            scored = sorted(
                (s for s in summaries if key in s),
                key=lambda s: s[key]["Value"],
                reverse=best_first,
            )
            summaries = scored + [s for s in summaries if key not in s]
        return summaries

    def summary(self, spec: TuningJobSpec, trial: JobRecord) -> dict[str, Any]:
        info = trial.document.get("tuning", {})
        definition = spec.definition(info.get("definition"))
        value = objective_value(definition, trial)
        item: dict[str, Any] = {
            "TrainingJobName": trial.name,
            "TrainingJobArn": job_arn(self.settings, trial.name),
            "TuningJobName": spec.tuning_job_name,
            "CreationTime": _when(trial.created_at),
            "TrainingStartTime": _when(trial.document.get("training_start_time")),
            "TrainingEndTime": _when(
                trial.document.get("training_end_time") or trial.document.get("end_time")
            ),
            "TrainingJobStatus": trial.status,
            "TunedHyperParameters": dict(info.get("tuned", {})),
            "ObjectiveStatus": objective_status(trial, value),
        }
        if definition.name is not None:
            item["TrainingJobDefinitionName"] = definition.name
        if value is not None:
            item["FinalHyperParameterTuningJobObjectiveMetric"] = {
                "Type": spec.objective_type,
                "MetricName": definition.objective_metric_name,
                "Value": value,
            }
        if trial.document.get("failure_reason"):
            item["FailureReason"] = trial.document["failure_reason"]
        return {k: v for k, v in item.items() if v is not None}

    def best(self, spec: TuningJobSpec, summaries: list[dict[str, Any]]) -> dict[str, Any] | None:
        scored = [
            s
            for s in summaries
            if "FinalHyperParameterTuningJobObjectiveMetric" in s
            and s["ObjectiveStatus"] == "Succeeded"
        ]
        if not scored:
            return None
        pick = max if spec.objective_type == "Maximize" else min
        return pick(scored, key=lambda s: s["FinalHyperParameterTuningJobObjectiveMetric"]["Value"])

    def describe(self, name: str) -> dict[str, Any]:
        """A DescribeHyperParameterTuningJob-shaped dict."""
        record = self.get(name)
        spec = self.spec(record)
        summaries = [self.summary(spec, trial) for trial in self.trials(name)]
        counts = {
            "Completed": 0,
            "InProgress": 0,
            "RetryableError": 0,
            "NonRetryableError": 0,
            "Stopped": 0,
        }
        objective = {"Succeeded": 0, "Pending": 0, "Failed": 0}
        for item in summaries:
            status = item["TrainingJobStatus"]
            key = {"Failed": "NonRetryableError", "Stopping": "InProgress"}.get(status, status)
            counts[key] = counts.get(key, 0) + 1
            objective[item["ObjectiveStatus"]] += 1
        doc = record.document
        description: dict[str, Any] = {
            **spec.request,
            "HyperParameterTuningJobName": record.name,
            "HyperParameterTuningJobArn": tuning_arn(self.settings, record.name),
            "HyperParameterTuningJobStatus": record.status,
            "CreationTime": _when(record.created_at),
            "LastModifiedTime": _when(record.updated_at),
            "TrainingJobStatusCounters": counts,
            "ObjectiveStatusCounters": objective,
        }
        best = self.best(spec, summaries)
        if best is not None:
            description["BestTrainingJob"] = best
        if doc.get("end_time") is not None:
            description["HyperParameterTuningEndTime"] = _when(doc["end_time"])
            description["ConsumedResources"] = {
                "RuntimeInSeconds": round(doc["end_time"] - record.created_at)
            }
        if doc.get("failure_reason"):
            description["FailureReason"] = doc["failure_reason"]
        completion = dict(doc.get("completion") or {})
        reason = completion.pop("Reason", None)
        if reason:  # sageyard's own field: why the tuning job ended before max_jobs
            description["CompletionReason"] = reason
        if "ConvergenceDetectedTime" in completion:
            completion["ConvergenceDetectedTime"] = _when(completion["ConvergenceDetectedTime"])
        if completion:
            description["TuningJobCompletionDetails"] = completion
        return description

    # -- act ---------------------------------------------------------------------------------

    def status(self, name: str) -> str:
        return self.get(name).status

    def list_names(self, **filters: Any) -> list[str]:
        """The names ListHyperParameterTuningJobs gives for ``filters`` (its parameters in
        snake_case, as ``HyperParameterTuningJob.get_all`` takes them), in its order."""
        from sageyard.core._resource_args import listed_jobs

        name_contains = filters.pop("name_contains", None)
        records = listed_jobs(
            self.list_jobs(name_contains=name_contains), TUNING_JOB_STATUSES, **filters
        )
        return [record.name for record in records]

    def doorbell(self, name: str) -> Doorbell:
        """The tuning job's doorbell, which its supervisor rings when it ends."""
        return Doorbell(doorbell_path(self.settings, name))

    def stop(self, name: str) -> None:
        record = self.get(name)
        if record.status == "Stopping":
            return
        if record.status != "InProgress":
            raise ValidationException(
                f"Tuning job {name!r} has status {record.status}; only an InProgress tuning "
                "job can be stopped.",
                "StopHyperParameterTuningJob",
            )
        self.store.update(name, status="Stopping", expect_status={"InProgress"})


def objective_value(definition: TrainingDefinition, trial: JobRecord) -> float | None:
    """The trial's final objective: the last value of the objective metric it emitted."""
    for metric in trial.document.get("final_metrics") or []:
        if metric["MetricName"] == definition.objective_metric_name:
            return float(metric["Value"])
    return None


def objective_status(trial: JobRecord, value: float | None) -> str:
    if trial.status in ACTIVE:
        return "Pending"
    if value is not None and trial.status in ("Completed", "Stopped"):
        return "Succeeded"
    return "Failed"
