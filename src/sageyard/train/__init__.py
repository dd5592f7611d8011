"""The public facade: the reference's ``sagemaker.train`` names, run on sageyard.

Example:
    >>> from sageyard.train import ModelTrainer, Session, get_execution_role
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = [
    "Compute",
    "CustomizationTechnique",
    "DPOTrainer",
    "ModelTrainer",
    "RLAIFTrainer",
    "RLVRTrainer",
    "SFTTrainer",
    "Session",
    "TrainingJob",
    "TrainingType",
    "get_execution_role",
]

# What the real ``sagemaker.train`` exports lazily, by name → module. Each is imported on
# first use, so ``import sageyard.train`` stays light.
_LAZY = {
    "Compute": "sageyard.core.shapes",
    "CustomizationTechnique": "sageyard.train.common",
    "DPOTrainer": "sageyard.train.dpo_trainer",
    "ModelTrainer": "sageyard.train.model_trainer",
    "RLAIFTrainer": "sageyard.train.rlaif_trainer",
    "RLVRTrainer": "sageyard.train.rlvr_trainer",
    "SFTTrainer": "sageyard.train.sft_trainer",
    "Session": "sageyard.core.session",
    "TrainingJob": "sageyard.jobs.resource",
    "TrainingType": "sageyard.train.common",
    "get_execution_role": "sageyard.core.session",
}

if TYPE_CHECKING:
    from sageyard.core.session import Session, get_execution_role
    from sageyard.core.shapes import Compute
    from sageyard.jobs.resource import TrainingJob
    from sageyard.train.common import CustomizationTechnique, TrainingType
    from sageyard.train.dpo_trainer import DPOTrainer
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
