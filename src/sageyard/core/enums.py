"""Enums that every layer may name: ``TrainingType`` and ``CustomizationTechnique``.

They live at the bottom so that the registry, the model hub and the programs can use them
without importing the facade; :mod:`sageyard.train.common` re-exports them under the
reference's import path.

Example:
    >>> from sageyard.core.enums import CustomizationTechnique, TrainingType
    >>> CustomizationTechnique("dpo"), TrainingType.LORA.value
    (<CustomizationTechnique.DPO: 'dpo'>, 'lora')
"""

from __future__ import annotations

from enum import Enum

__all__ = ["CustomizationTechnique", "TrainingType"]


class TrainingType(Enum):
    """LORA trains small adapters (~1% of the parameters); FULL trains every parameter."""

    LORA = "lora"
    FULL = "full"


class CustomizationTechnique(Enum):
    """How a model is customised."""

    SFT = "sft"
    DPO = "dpo"
    RLAIF = "rlaif"
    RLVR = "rlvr"
