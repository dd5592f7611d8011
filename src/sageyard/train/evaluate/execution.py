"""An evaluation's execution: its status, its steps, waiting for it and showing its results.

The real SDK runs each evaluation as a SageMaker pipeline execution; sageyard runs it as
a pipeline of its own whose steps are training jobs (``sageyard.evaluation``), with the
same ARNs, statuses (``Executing``, ``Stopping``, ``Stopped``, ``Failed``,
``Succeeded``) and step names. As in the real SDK, :meth:`get` and :meth:`start` do not
raise for a missing or refused execution: its status says ``Error`` / ``Failed`` and
``failure_reason`` why.

Example:
    >>> execution = EvaluationPipelineExecution.get(arn)  # doctest: +SKIP
    >>> execution.wait(timeout=600)  # doctest: +SKIP
    >>> [step.name for step in execution.status.step_details]  # doctest: +SKIP
    ['EvaluateBaseModel']
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from sageyard.core.exceptions import (
    ConfigurationError,
    FailedStatusError,
    SageyardClientError,
    TimeoutExceededError,
)
from sageyard.train.evaluate.constants import EvalType

logger = logging.getLogger(__name__)

__all__ = [
    "BenchmarkEvaluationExecution",
    "EvaluationPipelineExecution",
    "LLMAJEvaluationExecution",
    "PipelineExecutionStatus",
    "StepDetail",
]

PipelineStatus = Literal["Executing", "Stopping", "Stopped", "Failed", "Succeeded"]


class StepDetail(BaseModel):
    """One step of the pipeline: its name, status, times and the training job it ran."""

    name: str = Field(..., description="Name of the pipeline step")
    status: str = Field(
        ..., description="Status of the step (Completed, Executing, Waiting, Failed)"
    )
    start_time: str | None = None
    end_time: str | None = None
    display_name: str | None = None
    failure_reason: str | None = None
    job_arn: str | None = Field(None, description="ARN of the underlying job")


class PipelineExecutionStatus(BaseModel):
    """The execution's status, its steps (earliest first) and why it failed."""

    overall_status: str
    step_details: list[StepDetail] = Field(default_factory=list)
    failure_reason: str | None = None


class EvaluationPipelineExecution(BaseModel):
    """One evaluation's execution, read from the job store (:meth:`refresh`)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    arn: str | None = None
    name: str
    status: PipelineExecutionStatus = Field(
        default_factory=lambda: PipelineExecutionStatus(overall_status="Unknown")
    )
    last_modified_time: datetime | None = None
    eval_type: EvalType | None = None
    s3_output_path: str | None = None
    steps: list[dict[str, Any]] = Field(default_factory=list)

    _session: Any = PrivateAttr(default=None)
    _found: bool = PrivateAttr(default=False)

    # -- start and find ----------------------------------------------------------------------

    @classmethod
    def start(
        cls,
        eval_type: EvalType,
        name: str,
        pipeline_definition: str,
        role_arn: str,
        s3_output_path: str | None = None,
        session: Any = None,
        region: str | None = None,
        tags: list[dict[str, str]] | None = None,
    ) -> EvaluationPipelineExecution:
        """Start the evaluation that ``pipeline_definition`` describes (sageyard's: the
        JSON of an ``EvaluationSpec``, whose steps are CreateTrainingJob requests).

        Raises:
            ValueError: The definition is not JSON. A refused start does not raise: the
                execution's status is Failed and ``failure_reason`` says why.
        """
        try:
            definition = json.loads(pipeline_definition)
        except json.JSONDecodeError as error:
            raise ConfigurationError(f"Invalid pipeline definition JSON: {error}") from None
        from sageyard.evaluation.spec import EvaluationSpec

        session = _session(session, region)
        execution = cls(
            name=name,
            eval_type=eval_type,
            status=PipelineExecutionStatus(overall_status="Starting"),
            s3_output_path=s3_output_path,
        )
        execution._session = session
        try:
            spec = EvaluationSpec.model_validate({**definition, "tags": list(tags or [])})
            service = _service(session)
            name = service.start(spec)
            execution.arn = service.describe(name)["PipelineExecutionArn"]
            execution.refresh()
        except (SageyardClientError, ConfigurationError, ValueError) as error:
            execution.status = PipelineExecutionStatus(
                overall_status="Failed", failure_reason=f"{type(error).__name__}: {error}"
            )
        return execution._as(eval_type)

    @classmethod
    def get(
        cls, arn: str, session: Any = None, region: str | None = None
    ) -> EvaluationPipelineExecution:
        """The execution of ``arn`` (its execution id, or display name, also do); as the
        real SDK, one that cannot be read has status ``Error`` and says why."""
        execution = cls(arn=arn, name=arn.rsplit("/", 1)[-1])
        execution._session = _session(session, region)
        try:
            execution.refresh(strict=True)
        except SageyardClientError as error:
            execution.status = PipelineExecutionStatus(
                overall_status="Error", failure_reason=f"{error.code}: {error}"
            )
            return execution
        return execution._as(execution.eval_type)

    @classmethod
    def get_all(
        cls, eval_type: EvalType | None = None, session: Any = None, region: str | None = None
    ) -> Iterator[EvaluationPipelineExecution]:
        """Every evaluation (of ``eval_type`` when given), newest first."""
        session = _session(session, region)
        service = _service(session)
        kind = eval_type.value if eval_type is not None else None
        for name in service.list_names(kind):
            execution = cls(name=name)
            execution._session = session
            execution.refresh()
            yield execution._as(execution.eval_type)

    # -- read and act ------------------------------------------------------------------------

    def refresh(self, strict: bool = False) -> None:
        """Read the status and steps from the store (``strict``: raise if it is gone)."""
        try:
            description = _service(self._session).describe(self.arn or self.name)
        except SageyardClientError:
            if strict:
                raise
            logger.warning("cannot refresh evaluation %s", self.arn or self.name, exc_info=True)
            return
        self._found = True
        self.arn = description["PipelineExecutionArn"]
        self.name = self.arn.rsplit("/", 1)[-1]
        self.eval_type = EvalType(description["EvalType"])
        self.s3_output_path = description["S3OutputPath"]
        self.last_modified_time = description["LastModifiedTime"]
        self.status = PipelineExecutionStatus(
            overall_status=description["PipelineExecutionStatus"],
            failure_reason=description.get("FailureReason"),
            step_details=[_step(step) for step in description["PipelineExecutionSteps"]],
        )

    def stop(self) -> None:
        """Stop the evaluation: its running steps' jobs stop, no further step starts."""
        if not self.arn:
            return
        try:
            _service(self._session).stop(self.arn)
            self.status.overall_status = "Stopping"
        except SageyardClientError as error:
            logger.warning("cannot stop evaluation %s: %s", self.arn, error)
        self.refresh()

    def wait(
        self,
        target_status: PipelineStatus = "Succeeded",
        poll: int = 5,
        timeout: int | None = None,
    ) -> None:
        """Wait until the status is ``target_status``, printing each step's progress.

        ``poll`` caps the seconds between checks (sageyard checks at least every second).

        Raises:
            FailedStatusError: The evaluation failed (or ended otherwise: stopped, or
                succeeded while waiting for another status).
            TimeoutExceededError: ``timeout`` seconds passed first.
        """
        if not self._found:
            return  # never started, as the real SDK: nothing to wait for
        started = time.time()
        print(f"\nEvaluation started: {self.name}\nExecution ARN: {self.arn}", flush=True)
        shown: dict[str, str] = {}
        while True:
            self.refresh()
            current = self.status.overall_status
            for step in self.status.step_details:
                if shown.get(step.name) != step.status:
                    shown[step.name] = step.status
                    mark = "✓" if step.status == "Succeeded" else "⋯"
                    print(f"  {mark} {step.display_name or step.name}: {step.status}", flush=True)
            if current == target_status:
                print(f"\nStatus: {current} (Elapsed: {time.time() - started:.1f}s)", flush=True)
                if self.s3_output_path:
                    print(f"Results S3: {self.s3_output_path}", flush=True)
                return
            if current in ("Failed", "Stopped", "Succeeded", "Error"):
                reason = self.status.failure_reason or _step_failures(self.status)
                raise FailedStatusError(
                    resource_type="PipelineExecution", status=current, reason=reason
                )
            if timeout is not None and time.time() - started >= timeout:
                raise TimeoutExceededError(
                    resource_type="EvaluationJob",
                    status=current,
                    message="Your evaluation job is still running. Call .refresh() to check "
                    "its current status.",
                )
            time.sleep(min(max(float(poll), 0.05), 1.0))

    # -- helpers -----------------------------------------------------------------------------

    def _as(self, eval_type: EvalType | None) -> EvaluationPipelineExecution:
        """This execution as the subclass of its type (whose ``show_results`` reads its
        result files)."""
        classes: dict[EvalType, type[EvaluationPipelineExecution]] = {
            EvalType.BENCHMARK: BenchmarkEvaluationExecution,
            EvalType.CUSTOM_SCORER: BenchmarkEvaluationExecution,
            EvalType.LLM_AS_JUDGE: LLMAJEvaluationExecution,
        }
        target = classes.get(eval_type) if eval_type is not None else None
        if target is None or isinstance(self, target):
            return self
        execution = target(**self.model_dump())
        execution._session, execution._found = self._session, self._found
        return execution

    def _require_success(self) -> None:
        self.refresh()
        if self.status.overall_status != "Succeeded":
            raise ConfigurationError(
                f"Cannot show results. Execution status is '{self.status.overall_status}'. "
                "Results are only available after successful execution. Use execution.wait() "
                "to wait for completion or check execution.status for details."
            )

    def step_results(self) -> dict[str, Any]:
        """What each evaluation step wrote, by the model it evaluated (``custom``,
        ``base``): its ``results_*.json`` (``.metrics`` is its ``all`` entry) and every
        example's record (``.examples``), read from ``s3_output_path``.

        Raises:
            ValueError: The execution has not succeeded.
        """
        self._require_success()
        found: dict[str, Any] = _service(self._session).results(self.arn or self.name)
        return found


class BenchmarkEvaluationExecution(EvaluationPipelineExecution):
    """A benchmark or custom-scorer evaluation: :meth:`show_results` renders its metrics."""

    def show_results(self) -> None:
        """The custom and base model's metrics as tables (values in 0..1 as percentages),
        and, with both, their difference; then where the full results are."""
        from sageyard.train.evaluate.results import show_benchmark_results

        show_benchmark_results(self.step_results())


class LLMAJEvaluationExecution(EvaluationPipelineExecution):
    """An LLM-as-judge evaluation: :meth:`show_results` renders the judge's scores."""

    def judge_results(self) -> dict[str, Any]:
        """What each judge step wrote, by model (``custom``, ``base``): ``.aggregate``
        (Bedrock's ``bedrock_llm_judge_results.json``) and ``.examples`` (each answer's
        scores and the judge's explanations).

        Raises:
            ValueError: The execution has not succeeded.
        """
        self._require_success()
        found: dict[str, Any] = _service(self._session).judge_results(self.arn or self.name)
        return found

    def show_results(
        self, limit: int | None = 5, offset: int = 0, show_explanations: bool = False
    ) -> None:
        """Win rates (custom vs base), the aggregate metrics, and a page of examples
        (``limit`` of them from ``offset``; ``limit=None``: all) with their scores and,
        with ``show_explanations``, the judge's reasons."""
        from sageyard.train.evaluate.results import show_judge_results

        found = self.judge_results()
        assert self.s3_output_path is not None
        show_judge_results(found, self.s3_output_path, limit, offset, show_explanations)


def _step(step: dict[str, Any]) -> StepDetail:
    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    metadata = step.get("Metadata") or {}
    return StepDetail(
        name=step["StepName"],
        status=step["StepStatus"],
        start_time=iso(step.get("StartTime")),
        end_time=iso(step.get("EndTime")),
        display_name=step.get("StepDisplayName"),
        failure_reason=step.get("FailureReason"),
        job_arn=(metadata.get("TrainingJob") or {}).get("Arn"),
    )


def _step_failures(status: PipelineExecutionStatus) -> str:
    failed = [f"{s.name}: {s.failure_reason}" for s in status.step_details if s.failure_reason]
    return "; ".join(failed) or "no reason was recorded"


def _session(session: Any, region: str | None) -> Any:
    if session is not None and hasattr(session, "settings"):
        return session
    from sageyard.core.session import Session

    return Session(region_name=region) if region else Session()


def _service(session: Any) -> Any:
    from sageyard.train.client import client_for

    return client_for(_session(session, None)).evaluations
