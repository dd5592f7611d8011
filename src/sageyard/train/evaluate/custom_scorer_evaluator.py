"""Custom scorers: ``CustomScorerEvaluator`` and ``get_builtin_metrics``.

The model answers each row of the dataset (the real SDK's gen-QA rows ``query`` /
``response``, or prompt/completion, or chat messages with the reference answer last),
and a scorer rewards each answer: a built-in metric (``prime_math``, ``prime_code``: the
same scorers as RLVR's presets) or your own reward function (an ``Evaluator``, its ARN,
or a ``.py`` file with ``lambda_handler``), run in the sandboxed reward workers.

Example:
    >>> BuiltInMetric = get_builtin_metrics()
    >>> evaluator = CustomScorerEvaluator(evaluator=BuiltInMetric.PRIME_MATH,
    ...     dataset="s3://bucket/math.jsonl", model="HuggingFaceTB/SmolLM2-135M-Instruct",
    ...     s3_output_path="s3://bucket/eval/")
    >>> evaluator.evaluator
    <_BuiltInMetric.PRIME_MATH: 'prime_math'>
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import field_validator

from sageyard.core.exceptions import ConfigurationError
from sageyard.train.evaluate.base_evaluator import BaseEvaluator
from sageyard.train.evaluate.constants import EvalType
from sageyard.train.evaluate.execution import EvaluationPipelineExecution

__all__ = ["CustomScorerEvaluator", "get_builtin_metrics"]


class _BuiltInMetric(StrEnum):
    """The built-in scorers (``get_builtin_metrics()``)."""

    PRIME_MATH = "prime_math"
    PRIME_CODE = "prime_code"


def get_builtin_metrics() -> type[_BuiltInMetric]:
    """The BuiltInMetric enum: ``get_builtin_metrics().PRIME_MATH``, ``.PRIME_CODE``."""
    return _BuiltInMetric


class CustomScorerEvaluator(BaseEvaluator):
    """Score a model's answers to a dataset with a scorer (the real SDK's class).

    Attributes:
        evaluator: A built-in metric (``get_builtin_metrics()`` or its value), an
            ``Evaluator`` of the AI registry, an evaluator's ARN, or (sageyard) a path to a
            ``.py`` file defining ``lambda_handler(event, context)``.
        dataset: The rows: an ``s3://`` URI, a local JSONL path, a DataSet or its ARN.
        evaluate_base_model: Also score the base model of a fine-tuned model.
    """

    evaluator: Any
    dataset: Any
    evaluate_base_model: bool = False

    @field_validator("evaluator")
    @classmethod
    def _check_evaluator(cls, value: Any) -> Any:
        if isinstance(value, _BuiltInMetric):
            return value
        if hasattr(value, "arn"):  # an Evaluator of the AI registry
            return value.arn
        if isinstance(value, str):
            if value.startswith("arn:") or value.endswith(".py"):
                return value
            try:
                return _BuiltInMetric(value)
            except ValueError:
                raise ValueError(
                    f"Invalid evaluator: '{value}'. Must be a built-in metric enum value, "
                    "Evaluator object, or valid Evaluator ARN (or a .py file with "
                    "lambda_handler). Available built-in metrics: "
                    f"{', '.join(m.value for m in _BuiltInMetric)}"
                ) from None
        raise ValueError(
            f"Invalid evaluator type: {type(value).__name__}. Must be a built-in metric enum "
            "value, Evaluator object, or ARN string."
        )

    @field_validator("dataset")
    @classmethod
    def _check_dataset(cls, value: Any) -> Any:
        return BaseEvaluator._validate_and_resolve_dataset(value)

    def evaluate(self, dry_run: bool = False) -> EvaluationPipelineExecution | None:
        """Start the evaluation; None with ``dry_run`` (every check, nothing started).

        Raises:
            ValueError: A dataset row that is not a question (file, line and field), a
                reward function that does not load, a model that cannot be resolved.
        """
        from sageyard.core.shapes import InputData
        from sageyard.evaluation.service import new_execution_id

        session = self._session()
        source, rows = self._dataset_rows(session, self.dataset)
        hyperparameters: dict[str, Any] = {
            "task": "gen_qa",
            "strategy": "gen_qa",
            "evaluation_metric": "all",
        }
        channels = [InputData(channel_name="train", data_source=source)]
        if isinstance(self.evaluator, _BuiltInMetric):
            hyperparameters["preset_reward_function"] = self.evaluator.value
            scorer = self.evaluator.value
        else:
            channels.append(
                InputData(channel_name="reward", data_source=self._scorer(session, rows))
            )
            hyperparameters.update(postprocessing="True", aggregation="mean")
            scorer = str(self.evaluator)
        execution_id = new_execution_id()
        steps, resolved = self._model_steps(
            session, execution_id, self.evaluate_base_model, hyperparameters, channels
        )
        summary = {
            "model": resolved.custom or resolved.base,
            "base_model": resolved.base,
            "dataset": source,
            "scorer": scorer,
        }
        return self._start(
            EvalType.CUSTOM_SCORER,
            execution_id,
            self.base_eval_name or "custom-scorer-eval",
            steps,
            summary,
            session,
            dry_run,
        )

    def _scorer(self, session: Any, rows: list[dict[str, Any]]) -> str:
        """Where the job reads the reward function, verified first on the first rows
        (each scored with its reference answer) in a sandboxed worker.

        Raises:
            ConfigurationError: No such file or evaluator, or one that fails on the rows.
        """
        from sageyard.programs._rewards import verify
        from sageyard.programs._rewards.pool import RewardPool
        from sageyard.programs.evaluate.genqa import question
        from sageyard.train.rlvr_trainer import reward_source

        with tempfile.TemporaryDirectory(prefix="sageyard-scorer-") as folder:
            uri, file = reward_source(
                self.evaluator, session, Path(folder), what="evaluator", user="A custom scorer"
            )
            prompts = []
            for row in rows[:3]:
                messages, reference = question(row)
                prompts.append({**row, "prompt": messages, "reference_answer": reference})
            pool = RewardPool(file, workers=1, timeout=10.0)
            try:
                pool.start()
                verify(pool.score, prompts)
            except RuntimeError as error:  # the file does not load
                raise ConfigurationError(f"Reward function verification failed: {error}") from None
            finally:
                pool.close()
        return uri

    @classmethod
    def get_all(
        cls, session: Any = None, region: str | None = None
    ) -> Iterator[EvaluationPipelineExecution]:
        """Every custom-scorer evaluation, newest first."""
        yield from EvaluationPipelineExecution.get_all(
            eval_type=EvalType.CUSTOM_SCORER, session=session, region=region
        )
