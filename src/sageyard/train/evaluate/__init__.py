"""Model evaluation (the real SDK's ``sagemaker.train.evaluate``): benchmarks, custom
scorers and LLM judges, run offline as sageyard jobs, one per pipeline step.

Example:
    >>> from sageyard.train.evaluate import BenchMarkEvaluator, get_benchmarks
    >>> get_benchmarks().MMLU.value
    'mmlu'
"""

from sageyard.train.evaluate.analytics import results_dataframe
from sageyard.train.evaluate.base_evaluator import BaseEvaluator
from sageyard.train.evaluate.benchmark_evaluator import (
    BenchMarkEvaluator,
    get_benchmark_properties,
    get_benchmarks,
)
from sageyard.train.evaluate.custom_scorer_evaluator import (
    CustomScorerEvaluator,
    get_builtin_metrics,
)
from sageyard.train.evaluate.execution import (
    EvaluationPipelineExecution,
    PipelineExecutionStatus,
    StepDetail,
)
from sageyard.train.evaluate.llm_as_judge_evaluator import LLMAsJudgeEvaluator

__all__ = [
    "BaseEvaluator",
    "BenchMarkEvaluator",
    "CustomScorerEvaluator",
    "EvaluationPipelineExecution",
    "LLMAsJudgeEvaluator",
    "PipelineExecutionStatus",
    "StepDetail",
    "get_benchmark_properties",
    "get_benchmarks",
    "get_builtin_metrics",
    "results_dataframe",
]
