"""Evaluations of a remote ``sageyard server``, over its ``Sageyard.*Evaluation`` calls.

The evaluation counterpart of :mod:`sageyard.jobs.remote`: what the evaluators, their
executions and analytics and ``sageyard evaluations`` call on
:class:`~sageyard.evaluation.service.EvaluationService`. SageMaker runs evaluations as
pipeline executions, and the server's API has no pipeline operations, so the calls are
sageyard's own (``server/evaluations.py``): Validate/Start/Describe/List/StopEvaluation,
the spec sent as it is once the local files its steps name are in the server's S3. The
results are read from the server's S3 by the same functions the service uses.

Example:
    >>> evaluations = evaluations_for(Settings.from_env())  # doctest: +SKIP
    >>> evaluations.describe("3f2a9c1b7d4e")["PipelineExecutionStatus"]  # doctest: +SKIP
    'Succeeded'
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sageyard.core.settings import Settings
from sageyard.evaluation.results import JudgeResults, StepResults
from sageyard.evaluation.service import (
    EvaluationService,
    evaluation_rows,
    judge_step_results,
    step_results,
)
from sageyard.evaluation.spec import EvaluationSpec
from sageyard.jobs.remote import Remote, upload_local_files

__all__ = ["Evaluations", "RemoteEvaluations", "evaluations_for"]


class RemoteEvaluations:
    """The evaluations of a ``sageyard server`` (see the module's docstring)."""

    NOUN = "Evaluation"

    def __init__(self, remote: Remote) -> None:
        self.remote = remote

    @property
    def settings(self) -> Settings:
        return self.remote.settings

    def _sent(self, spec: EvaluationSpec) -> dict[str, Any]:
        """The spec as JSON, each step's local files uploaded and named by URI."""
        bucket, objects = self.settings.default_bucket, self.remote.objects
        steps = [
            step.model_copy(update={"request": upload_local_files(step.request, objects, bucket)})
            for step in spec.steps
        ]
        return spec.model_copy(update={"steps": steps}).model_dump(mode="json")

    def validate(self, spec: EvaluationSpec) -> None:
        """Every check starting the evaluation makes, starting nothing."""
        self.remote.send("Sageyard.ValidateEvaluation", {"Spec": self._sent(spec)})

    def start(self, spec: EvaluationSpec) -> str:
        """Start the evaluation on the server; its execution id."""
        answer = self.remote.send("Sageyard.StartEvaluation", {"Spec": self._sent(spec)})
        return str(answer["PipelineExecutionArn"]).rsplit("/", 1)[-1]

    def describe(self, name: str) -> dict[str, Any]:
        """DescribePipelineExecution of an execution id, ARN or display name."""
        answer = self.remote.send("Sageyard.DescribeEvaluation", {"Name": name})
        for key in ("CreationTime", "LastModifiedTime"):
            answer[key] = _time(answer.get(key))
        for step in answer.get("PipelineExecutionSteps", []):
            for key in ("StartTime", "EndTime"):
                if key in step:
                    step[key] = _time(step[key])
        return answer

    def list_names(self, eval_type: str | None = None) -> list[str]:
        """The evaluations' execution ids, newest first (only ``eval_type``'s when given)."""
        request = {"EvalType": eval_type} if eval_type else {}
        return list(self.remote.send("Sageyard.ListEvaluations", request)["Names"])

    def stop(self, name: str) -> None:
        self.remote.send("Sageyard.StopEvaluation", {"Name": name})

    def results(self, name: str) -> dict[str, StepResults]:
        return step_results(self.remote.objects, self.describe(name))

    def judge_results(self, name: str) -> dict[str, JudgeResults]:
        return judge_step_results(self.remote.objects, self.describe(name))

    def result_rows(self, names: list[str] | None = None) -> list[dict[str, Any]]:
        described = [self.describe(name) for name in names or self.list_names()]
        return evaluation_rows(self.remote.objects, described)


def _time(value: Any) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if isinstance(value, int | float) else value


#: The evaluations the facade and CLI reach: this machine's service or a server's.
Evaluations = EvaluationService | RemoteEvaluations


def evaluations_for(settings: Settings) -> Evaluations:
    """The server's evaluations with ``settings.endpoint_url``, else this machine's."""
    if settings.endpoint_url:
        return RemoteEvaluations(Remote(settings))
    return EvaluationService(settings)
