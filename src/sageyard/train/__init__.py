"""The public facade: the reference's ``sagemaker.train`` names, run on sageyard.

Example:
    >>> from sageyard.train import ModelTrainer, Session, get_execution_role
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["ModelTrainer", "Session", "TrainingJob", "get_execution_role"]

_LAZY = {
    "ModelTrainer": "sageyard.train.model_trainer",
    "Session": "sageyard.core.session",
    "get_execution_role": "sageyard.core.session",
    "TrainingJob": "sageyard.jobs.resource",
}

if TYPE_CHECKING:
    from sageyard.core.session import Session, get_execution_role
    from sageyard.jobs.resource import TrainingJob
    from sageyard.train.model_trainer import ModelTrainer


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
