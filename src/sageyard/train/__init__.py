"""The public facade: the reference's ``sagemaker.train`` names, run on sageyard.

Example:
    >>> from sageyard.train import ModelTrainer, Session, get_execution_role
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = [
    "BenchMarkEvaluator",
    "Compute",
    "CustomScorerEvaluator",
    "CustomizationTechnique",
    "DPOTrainer",
    "EvaluationPipelineExecution",
    "LLMAsJudgeEvaluator",
    "ModelTrainer",
    "PipelineExecutionStatus",
    "RLAIFTrainer",
    "RLVRTrainer",
    "SFTTrainer",
    "Session",
    "StepDetail",
    "TrainingJob",
    "TrainingType",
    "get_benchmark_properties",
    "get_benchmarks",
    "get_builtin_metrics",
    "get_execution_role",
]

# What the real ``sagemaker.train`` exports lazily, by name → module. Each is imported on
# first use, so ``import sageyard.train`` stays light.
_LAZY = {
    "BenchMarkEvaluator": "sageyard.train.evaluate",
    "Compute": "sageyard.core.shapes",
    "CustomScorerEvaluator": "sageyard.train.evaluate",
    "CustomizationTechnique": "sageyard.train.common",
    "DPOTrainer": "sageyard.train.dpo_trainer",
    "EvaluationPipelineExecution": "sageyard.train.evaluate",
    "LLMAsJudgeEvaluator": "sageyard.train.evaluate",
    "ModelTrainer": "sageyard.train.model_trainer",
    "PipelineExecutionStatus": "sageyard.train.evaluate",
    "RLAIFTrainer": "sageyard.train.rlaif_trainer",
    "RLVRTrainer": "sageyard.train.rlvr_trainer",
    "SFTTrainer": "sageyard.train.sft_trainer",
    "Session": "sageyard.core.session",
    "StepDetail": "sageyard.train.evaluate",
    "TrainingJob": "sageyard.jobs.resource",
    "TrainingType": "sageyard.train.common",
    "get_benchmark_properties": "sageyard.train.evaluate",
    "get_benchmarks": "sageyard.train.evaluate",
    "get_builtin_metrics": "sageyard.train.evaluate",
    "get_execution_role": "sageyard.core.session",
}

if TYPE_CHECKING:
    from sageyard.core.session import Session, get_execution_role
    from sageyard.core.shapes import Compute
    from sageyard.jobs.resource import TrainingJob
    from sageyard.train.common import CustomizationTechnique, TrainingType
    from sageyard.train.dpo_trainer import DPOTrainer
    from sageyard.train.evaluate import (
        BenchMarkEvaluator,
        CustomScorerEvaluator,
        EvaluationPipelineExecution,
        LLMAsJudgeEvaluator,
        PipelineExecutionStatus,
        StepDetail,
        get_benchmark_properties,
        get_benchmarks,
        get_builtin_metrics,
    )
    from sageyard.train.model_trainer import ModelTrainer
    from sageyard.train.rlaif_trainer import RLAIFTrainer
    from sageyard.train.rlvr_trainer import RLVRTrainer
    from sageyard.train.sft_trainer import SFTTrainer


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'sageyard.train' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
