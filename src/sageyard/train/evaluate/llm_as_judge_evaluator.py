"""LLM as a judge: ``LLMAsJudgeEvaluator``.

The model answers each row of the dataset (an inference step), then a judge model scores
every answer on each metric (a metrics step), as the real SDK's LLM-as-judge pipeline:
``EvaluateCustomInferenceModel`` → ``EvaluateCustomModelMetrics``, and with
``evaluate_base_model`` the base model's two steps beside them. The built-in metrics are
Bedrock's (``Builtin.Correctness``, ..., with or without ``Builtin.``); ``custom_metrics``
is Bedrock's JSON of custom metric definitions.

The judge is the endpoint ``SAGEYARD_JUDGE_ENDPOINTS`` maps ``evaluator_model`` to (an
OpenAI-compatible server), else ``evaluator_model`` itself when it is a local model
folder or a catalog model with local weights, else the stand-in ``SAGEYARD_LOCAL_JUDGE``
(said in the log and in every explanation).

Example:
    >>> evaluator = LLMAsJudgeEvaluator(model="HuggingFaceTB/SmolLM2-135M-Instruct",
    ...     evaluator_model="anthropic.claude-3-haiku-20240307-v1:0",
    ...     dataset="s3://bucket/questions.jsonl",
    ...     builtin_metrics=["Builtin.Correctness", "helpfulness"],
    ...     s3_output_path="s3://bucket/eval/")
    >>> evaluator.builtin_metrics
    ['Correctness', 'Helpfulness']
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import field_validator

from sageyard.core.exceptions import ConfigurationError
from sageyard.train.evaluate.base_evaluator import BaseEvaluator
from sageyard.train.evaluate.constants import EvalType
from sageyard.train.evaluate.execution import EvaluationPipelineExecution

__all__ = ["LLMAsJudgeEvaluator"]


class LLMAsJudgeEvaluator(BaseEvaluator):
    """Judge a model's answers to a dataset with another model (the real SDK's class).

    Attributes:
        evaluator_model: The judge's model id (e.g. a Bedrock id, mapped to an endpoint by
            ``SAGEYARD_JUDGE_ENDPOINTS``), or a local model folder / catalog id.
        dataset: The rows: an ``s3://`` URI, a local JSONL path, a DataSet or its ARN.
        builtin_metrics: Bedrock's judge metrics, with or without ``Builtin.``.
        custom_metrics: Bedrock's custom metric definitions, as a JSON string (or the
            list itself).
        evaluate_base_model: Also judge the base model of a fine-tuned model.
    """

    evaluator_model: str
    dataset: Any
    builtin_metrics: list[str] | None = None
    custom_metrics: Any = None
    evaluate_base_model: bool = False

    @field_validator("evaluator_model")
    @classmethod
    def _check_judge(cls, value: str) -> str:
        if not value.strip():
            raise ConfigurationError(
                "evaluator_model must name the judge model, e.g. a Bedrock model id."
            )
        return value

    @field_validator("builtin_metrics")
    @classmethod
    def _check_builtin(cls, value: list[str] | None) -> list[str] | None:
        from sageyard.programs.evaluate.judging import BUILTIN_METRICS, metric_name

        if value is None:
            return None
        names = []
        for given in value:
            name = metric_name(given) if isinstance(given, str) else None
            if name is None:
                raise ConfigurationError(
                    f"{given!r} is not a built-in judge metric; choose from "
                    f"{', '.join(BUILTIN_METRICS)} (with or without 'Builtin.')."
                )
            if name not in names:
                names.append(name)
        return names

    @field_validator("custom_metrics")
    @classmethod
    def _check_custom(cls, value: Any) -> str | None:
        from sageyard.programs.evaluate.judging import check_custom_metrics

        if value is None:
            return None
        return json.dumps(check_custom_metrics(value))

    @field_validator("dataset")
    @classmethod
    def _check_dataset(cls, value: Any) -> Any:
        return BaseEvaluator._validate_and_resolve_dataset(value)
        if not isinstance(value, str) or not value.strip():
            raise ConfigurationError(
                "Dataset must be a string (S3 URI, local path or hub-content DataSet ARN) or "
                f"a DataSet object. Got {type(value).__name__}"
            )
        return value

    def evaluate(self, dry_run: bool = False) -> EvaluationPipelineExecution | None:
        """Start the evaluation; None with ``dry_run`` (every check, nothing started).

        Raises:
            ValueError: No metric, a dataset row that is not a question (file, line and
                field), a model that cannot be resolved.
        """
        from sageyard.core.shapes import InputData
        from sageyard.evaluation.service import new_execution_id

        if not self.builtin_metrics and not self.custom_metrics:
            raise ConfigurationError(
                "LLMAsJudgeEvaluator needs a metric: builtin_metrics=['Builtin.Correctness', "
                "...] or custom_metrics='[{\"customMetricDefinition\": ...}]'."
            )
        session = self._session()
        source, _ = self._dataset_rows(session, self.dataset)
        execution_id = new_execution_id()
        models, resolved = self._models(session, self.evaluate_base_model)
        judge_values, judge_channels = self._judge_inputs(session, self.evaluator_model)
        metrics_uri = None
        if self.custom_metrics:
            stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
            base = self.s3_output_path.rstrip("/")
            metrics_uri = (
                f"{base}/evaluationinputs/{self.base_eval_name}{stamp}/custom-metrics.json"
            )
            judge_channels.append(
                InputData(channel_name="custom_metrics", data_source=metrics_uri.rsplit("/", 1)[0])
            )
        steps = []
        for role, weights in models:
            label = role.title()
            inference = self._step(
                session,
                name=f"Evaluate{label}InferenceModel",
                role=role,
                execution_id=execution_id,
                model_source=weights,
                hyperparameters={"task": "inference_only", "name": f"{label}Inference"},
                channels=[InputData(channel_name="train", data_source=source)],
            )
            output = f"{self.s3_output_path.rstrip('/')}/{inference.job_name}/output/output/"
            judged = self._step(
                session,
                name=f"Evaluate{label}ModelMetrics",
                role=role,
                execution_id=execution_id,
                model_source=None,
                hyperparameters={
                    "task": "llm_judge",
                    "name": f"{label.lower()}-llmaj-eval-{execution_id}",
                    "judge_model_id": self.evaluator_model,
                    "llmaj_metrics": json.dumps(self.builtin_metrics or []),
                    **judge_values,
                },
                channels=[InputData(channel_name="inference", data_source=output), *judge_channels],
                depends_on=(inference.name,),
                publishes_examples=True,
            )
            steps += [inference, judged]
        steps.sort(key=lambda step: (bool(step.depends_on), step.model_role != "base"))
        summary = {
            "model": resolved.custom or resolved.base,
            "base_model": resolved.base,
            "dataset": source,
            "benchmark": "llm_judge",
            "judge": self.evaluator_model,
            "metrics": [*(self.builtin_metrics or []), *self._custom_names()],
        }

        def upload_metrics() -> None:
            if metrics_uri is not None:
                assert self.custom_metrics is not None
                with tempfile.TemporaryDirectory() as scratch:
                    path = Path(scratch) / "custom-metrics.json"
                    path.write_text(self.custom_metrics)
                    session.objects.put_file(path, metrics_uri)

        return self._start(
            EvalType.LLM_AS_JUDGE,
            execution_id,
            self.base_eval_name or "llm-judge-eval",
            steps,
            summary,
            session,
            dry_run,
            prepare=upload_metrics,
        )

    def _custom_names(self) -> list[str]:
        if not self.custom_metrics:
            return []
        return [d["customMetricDefinition"]["name"] for d in json.loads(self.custom_metrics)]

    @classmethod
    def get_all(
        cls, session: Any = None, region: str | None = None
    ) -> Iterator[EvaluationPipelineExecution]:
        """Every LLM-as-judge evaluation, newest first."""
        yield from EvaluationPipelineExecution.get_all(
            eval_type=EvalType.LLM_AS_JUDGE, session=session, region=region
        )
