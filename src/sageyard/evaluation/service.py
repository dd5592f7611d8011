"""The evaluation service: create, read, list and stop evaluations in the job store.

An evaluation is a pipeline execution, as SageMaker runs the real SDK's evaluations: a
row of kind ``EvaluationExecution`` whose steps are training jobs of the evaluate program
(their ``parent`` is the execution; their ``evaluation`` document field names the step).
Its supervisor (``supervisor.py``) starts each step when the steps it waits for have
succeeded, so an evaluation survives its caller, and is listed, logged and stopped like
any job.

Statuses are SageMaker Pipelines': the row's ``InProgress`` / ``Completed`` read as
``Executing`` / ``Succeeded``; ``Stopping``, ``Stopped`` and ``Failed`` as they are.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sageyard.core.exceptions import ConfigurationError, ResourceNotFound, ValidationException
from sageyard.core.settings import Settings
from sageyard.evaluation.results import (
    ROLES,
    JudgeResults,
    StepResults,
    read_judge_results,
    result_rows,
    results_by_role,
)
from sageyard.evaluation.spec import EVAL_TYPES, KIND, EvaluationSpec
from sageyard.jobs.launch import launch_supervisor
from sageyard.jobs.records import JobRecords
from sageyard.jobs.service import Launcher, TrainingJobService, job_arn
from sageyard.jobs.states import KIND as TRAINING_JOB
from sageyard.storage import ObjectStore
from sageyard.store import JobRecord, JobStore

__all__ = [
    "STEP_FAILURE",
    "EvaluationService",
    "evaluation_rows",
    "execution_arn",
    "judge_step_results",
    "new_execution_id",
    "pipeline_arn",
    "pipeline_name",
    "pipeline_status",
    "step_results",
    "step_status",
    "succeeded_steps",
]

#: The row's status → the pipeline execution's (``PipelineExecutionStatus``).
_PIPELINE_STATUS = {"InProgress": "Executing", "Completed": "Succeeded"}
#: A step job's status → the step's (``StepStatus``).
_STEP_STATUS = {"InProgress": "Executing", "Completed": "Succeeded"}
#: The FailureReason of an evaluation with a failed step, as SageMaker Pipelines says it.
STEP_FAILURE = "Step failure: One or multiple steps failed."


def pipeline_status(status: str) -> str:
    """``PipelineExecutionStatus`` of a row's status (``Executing``, ``Succeeded``, ...)."""
    return _PIPELINE_STATUS.get(status, status)


def step_status(status: str) -> str:
    return _STEP_STATUS.get(status, status)


def pipeline_name(settings: Settings, eval_type: str) -> str:
    """``SagemakerEvaluation-<Type>-<uuid>``: one pipeline per evaluation type and account,
    as the real SDK reuses the pipeline it made first."""
    display = EVAL_TYPES[eval_type]
    unique = uuid.uuid5(uuid.NAMESPACE_URL, f"sageyard:{settings.account_id}:{eval_type}")
    return f"SagemakerEvaluation-{display}-{unique}"


def pipeline_arn(settings: Settings, name: str) -> str:
    return f"arn:aws:sagemaker:{settings.region}:{settings.account_id}:pipeline/{name}"


def execution_arn(settings: Settings, spec: EvaluationSpec) -> str:
    return f"{pipeline_arn(settings, spec.pipeline_name)}/execution/{spec.execution_id}"


def new_execution_id() -> str:
    """Twelve lowercase letters and digits, as SageMaker's pipeline execution ids."""
    return uuid.uuid4().hex[:12]


def _when(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


def succeeded_steps(description: Mapping[str, Any]) -> tuple[str, list[tuple[str, str | None]]]:
    """A succeeded evaluation's output path, and its steps as ``(name, job ARN)``, from its
    description.

    Raises:
        ConfigurationError: It has not succeeded.
    """
    status = description["PipelineExecutionStatus"]
    if status != "Succeeded":
        name = description["PipelineExecutionArn"].rsplit("/", 1)[-1]
        raise ConfigurationError(
            f"Evaluation {name!r} is {status}; results exist once it has Succeeded."
        )
    steps = [
        (s["StepName"], (s.get("Metadata") or {}).get("TrainingJob", {}).get("Arn"))
        for s in description["PipelineExecutionSteps"]
    ]
    return description["S3OutputPath"], steps


def step_results(objects: ObjectStore, description: Mapping[str, Any]) -> dict[str, StepResults]:
    """What a succeeded evaluation's steps wrote, by model role, read from ``objects``."""
    output, steps = succeeded_steps(description)
    return results_by_role(objects, output, steps)


def judge_step_results(
    objects: ObjectStore, description: Mapping[str, Any]
) -> dict[str, JudgeResults]:
    """What a succeeded LLM-as-judge evaluation's judge steps wrote, by model role.

    Raises:
        ConfigurationError: It has not succeeded, or has no judge step.
    """
    output, steps = succeeded_steps(description)
    found = {
        ROLES[step]: read_judge_results(objects, output, arn.rsplit("/", 1)[-1])
        for step, arn in steps
        if step.endswith("ModelMetrics") and arn
    }
    if not found:
        raise ConfigurationError(
            "[PySDK Error] Could not extract training job name from pipeline steps. Unable "
            "to locate evaluation results. Ensure the pipeline has completed successfully."
        )
    return found


def evaluation_rows(
    objects: ObjectStore, descriptions: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """One row per evaluation, model, subtask and metric, for the succeeded ones among
    ``descriptions`` (in their order)."""
    rows = []
    for description in descriptions:
        if description["PipelineExecutionStatus"] != "Succeeded":
            continue
        found = step_results(objects, description).values()
        for row in result_rows(description.get("Summary") or {}, found):
            rows.append(
                {
                    "evaluation": description["PipelineExecutionArn"].rsplit("/", 1)[-1],
                    "name": description["PipelineExecutionDisplayName"],
                    "eval_type": description["EvalType"],
                    **row,
                    "created": description["CreationTime"],
                }
            )
    return rows


class EvaluationService(JobRecords):
    """Evaluations over the job store. Construction does no I/O."""

    KIND = KIND
    NOUN = "Evaluation"
    DESCRIBE_OPERATION = "DescribePipelineExecution"
    CLI_LIST = "sageyard evaluations list"

    def __init__(self, settings: Settings, launcher: Launcher = launch_supervisor) -> None:
        """``launcher`` starts the step jobs' supervisors (the evaluation's own is always
        started detached, by ``launch_supervisor``)."""
        self.settings = settings
        self.jobs = TrainingJobService(settings, launcher)

    @property
    def store(self) -> JobStore:
        return self.jobs.store

    # -- create ------------------------------------------------------------------------------

    def validate(self, spec: EvaluationSpec) -> None:
        """Every check the steps' jobs will meet that can be made now: the requests of the
        steps that wait for none (a later step reads an earlier one's output, which does
        not exist yet; its own job checks it when it starts).

        Raises:
            ValueError: A step's request breaks a rule (a ConfigurationError).
        """
        for step in spec.steps:
            if not step.depends_on:
                self.jobs.validate_training_job(step.request)

    def create(self, spec: EvaluationSpec) -> JobRecord:
        """Validate, persist the evaluation and start its supervisor.

        Raises:
            ValueError: A step's request breaks a rule (nothing is written).
            botocore.exceptions.ClientError: ResourceInUse for an execution id that exists.
        """
        self.validate(spec)

        def build(name: str, now: float) -> JobRecord:
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
                document={"spec": spec.model_dump(mode="json"), "step_failures": {}},
            )

        record = self.insert_new(
            spec.execution_id, None, lambda base, _: base, build, "StartPipelineExecution"
        )
        try:
            log = self.settings.jobs_dir / record.name / "supervisor.log"
            launch_supervisor(self.settings, record.name, log, kind="evaluation")
        except Exception as error:
            self.fail_to_start(record, error)
            raise
        return record

    # -- read --------------------------------------------------------------------------------

    def spec(self, record: JobRecord) -> EvaluationSpec:
        return EvaluationSpec.model_validate(record.document["spec"])

    def find(self, name_or_arn: str) -> JobRecord:
        """An evaluation by execution id, ARN or display name (the newest of that name).

        Raises:
            ResourceNotFound: None has that id, ARN or name.
        """
        key = name_or_arn.rsplit("/", 1)[-1]
        with contextlib.suppress(ResourceNotFound):
            return self.get(key)
        for record in self.store.list(KIND):
            if record.document["spec"]["display_name"] == key:
                return self.reconcile(record)
        return self.get(key)  # raises, naming the store and the listing command

    def list_executions(self, eval_type: str | None = None) -> list[JobRecord]:
        """The evaluations, newest first; only those of ``eval_type`` when given."""
        records = self.list_jobs()
        if eval_type is None:
            return records
        return [r for r in records if r.document["spec"]["eval_type"] == eval_type]

    def step_jobs(self, name: str) -> dict[str, JobRecord]:
        """The step jobs started so far, by step name."""
        found = {}
        for record in self.store.list(TRAINING_JOB, parent=name, newest_first=False):
            step = (record.document.get("evaluation") or {}).get("step")
            if step:
                found[step] = self.jobs.reconcile(record)
        return found

    def describe(self, name: str) -> dict[str, Any]:
        """DescribePipelineExecution, with ``PipelineExecutionSteps`` (ListPipelineExecution
        Steps: the steps started so far, earliest first) and sageyard's summary."""
        record = self.find(name)
        spec = self.spec(record)
        jobs = self.step_jobs(record.name)
        failures: Mapping[str, str] = record.document.get("step_failures") or {}
        steps = []
        for step in spec.steps:
            job = jobs.get(step.name)
            if job is None and step.name not in failures:
                continue  # not started
            entry: dict[str, Any] = {"StepName": step.name}
            if step.display_name:
                entry["StepDisplayName"] = step.display_name
            if job is None:
                entry.update(StepStatus="Failed", FailureReason=failures[step.name])
            else:
                entry.update(
                    StepStatus=step_status(job.status),
                    StartTime=_when(job.created_at),
                    EndTime=_when(job.document.get("end_time")),
                    Metadata={"TrainingJob": {"Arn": job_arn(self.settings, job.name)}},
                )
                if job.document.get("failure_reason"):
                    entry["FailureReason"] = job.document["failure_reason"]
            steps.append(entry)
        description: dict[str, Any] = {
            "PipelineArn": pipeline_arn(self.settings, spec.pipeline_name),
            "PipelineExecutionArn": execution_arn(self.settings, spec),
            "PipelineExecutionDisplayName": spec.display_name,
            "PipelineExecutionStatus": pipeline_status(record.status),
            "PipelineExecutionDescription": f"Evaluation execution: {spec.display_name}",
            "CreationTime": _when(record.created_at),
            "LastModifiedTime": _when(record.updated_at),
            "PipelineExecutionSteps": steps,
            "EvalType": spec.eval_type,
            "S3OutputPath": spec.s3_output_path,
            "Summary": spec.summary,
        }
        if record.document.get("failure_reason"):
            description["FailureReason"] = record.document["failure_reason"]
        return description

    def results(self, name: str) -> dict[str, StepResults]:
        """What the evaluation's steps wrote, by the model they evaluated (``custom``,
        ``base``).

        Raises:
            ConfigurationError: It has not succeeded, or no step evaluated a model.
            FileNotFoundError: A step's job left no results.
        """
        return step_results(self.jobs.objects, self.describe(name))

    def judge_results(self, name: str) -> dict[str, JudgeResults]:
        """What an LLM-as-judge evaluation's judge steps wrote, by model (``custom``,
        ``base``).

        Raises:
            ConfigurationError: It has not succeeded, or has no judge step.
        """
        return judge_step_results(self.jobs.objects, self.describe(name))

    def result_rows(self, names: list[str] | None = None) -> list[dict[str, Any]]:
        """One row per evaluation, model, subtask and metric (``result_rows``), for the
        succeeded evaluations among ``names`` (ids, ARNs or display names; all when None),
        newest first."""
        described = [self.describe(name) for name in names or self.list_names()]
        return evaluation_rows(self.jobs.objects, described)

    def start(self, spec: EvaluationSpec) -> str:
        """Create the evaluation and start its supervisor; its execution id."""
        return self.create(spec).name

    def list_names(self, eval_type: str | None = None) -> list[str]:
        """The evaluations' execution ids, newest first (only ``eval_type``'s when given)."""
        return [record.name for record in self.list_executions(eval_type)]

    # -- act ---------------------------------------------------------------------------------

    def stop(self, name: str) -> None:
        """StopPipelineExecution: the supervisor stops the running steps' jobs.

        Raises:
            ValidationException: The evaluation has ended already.
        """
        record = self.find(name)
        if record.status == "Stopping":
            return
        if record.status != "InProgress":
            raise ValidationException(
                f"Evaluation {record.name!r} has status {pipeline_status(record.status)}; "
                "only an Executing evaluation can be stopped.",
                "StopPipelineExecution",
            )
        self.store.update(record.name, status="Stopping", expect_status={"InProgress"})

    def _after_interrupted(self, record: JobRecord, reason: str, gone: bool) -> None:
        """A dead supervisor's steps stop too: nothing of the evaluation runs on."""
        for job in self.step_jobs(record.name).values():
            if job.status == "InProgress":
                with contextlib.suppress(ValidationException):
                    self.jobs.stop(job.name)
