"""sageyard's own evaluation calls (``X-Amz-Target: Sageyard.<Operation>``), which its
facade makes through a server (``evaluation/remote.py``): SageMaker runs evaluations as
pipeline executions, and this server answers no pipeline operations. Each takes and
answers JSON: an ``EvaluationSpec`` as ``Spec``, an execution id, ARN or display name as
``Name``; a description is DescribePipelineExecution's, times in epoch seconds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sageyard.core.exceptions import ValidationException
from sageyard.train.client import LocalClient

__all__ = [
    "EVALUATION_OPERATIONS",
    "describe_evaluation",
    "list_evaluations",
    "start_evaluation",
    "stop_evaluation",
    "validate_evaluation",
]


def _spec(request: Mapping[str, Any]) -> Any:
    from pydantic import ValidationError

    from sageyard.evaluation.spec import EvaluationSpec

    try:
        return EvaluationSpec.model_validate(request.get("Spec"))
    except ValidationError as error:
        raise ValidationException(f"Spec is not an evaluation's: {error}") from None


def _name(request: Mapping[str, Any]) -> str:
    from sageyard.train.sagemaker_api import required_name

    return required_name(request, "Name")


def validate_evaluation(client: LocalClient, request: Mapping[str, Any]) -> dict[str, Any]:
    client.evaluations.validate(_spec(request))
    return {}


def start_evaluation(client: LocalClient, request: Mapping[str, Any]) -> dict[str, Any]:
    evaluations = client.evaluations
    name = evaluations.start(_spec(request))
    return {"PipelineExecutionArn": evaluations.describe(name)["PipelineExecutionArn"]}


def describe_evaluation(client: LocalClient, request: Mapping[str, Any]) -> dict[str, Any]:
    return client.evaluations.describe(_name(request))


def list_evaluations(client: LocalClient, request: Mapping[str, Any]) -> dict[str, Any]:
    from sageyard.evaluation.spec import EVAL_TYPES

    kind = request.get("EvalType")
    if kind is not None and kind not in EVAL_TYPES:
        raise ValidationException(f"EvalType must be one of {sorted(EVAL_TYPES)}, not {kind!r}.")
    return {"Names": client.evaluations.list_names(kind)}


def stop_evaluation(client: LocalClient, request: Mapping[str, Any]) -> dict[str, Any]:
    client.evaluations.stop(_name(request))
    return {}


EVALUATION_OPERATIONS = {
    "ValidateEvaluation": validate_evaluation,
    "StartEvaluation": start_evaluation,
    "DescribeEvaluation": describe_evaluation,
    "ListEvaluations": list_evaluations,
    "StopEvaluation": stop_evaluation,
}
