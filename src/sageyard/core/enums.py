"""Enums that every layer may name: ``TrainingType`` and ``CustomizationTechnique``.

They live at the bottom so that the registry, the model hub and the programs can use them
without importing the facade; :mod:`sageyard.train.common` re-exports them under the
reference's import path.

Example:
    >>> from sageyard.core.enums import CustomizationTechnique, TrainingType
    >>> CustomizationTechnique("dpo"), TrainingType.LORA.value
    (<CustomizationTechnique.DPO: 'dpo'>, 'lora')
    >>> TrainingType("LORA"), CustomizationTechnique("SFT")  # the real SDK's spellings
    (<TrainingType.LORA: 'lora'>, <CustomizationTechnique.SFT: 'sft'>)
"""

from __future__ import annotations

from enum import Enum
from typing import Any

__all__ = ["BothSpellings", "CustomizationTechnique", "TrainingType"]


class BothSpellings(Enum):
    """An enum that also takes a member's name, in any case, as its value.

    The reference's values are lowercase (``"lora"``, or ``1`` for ``Mode``); the real SDK's
    are the names (``"LORA"``, ``"LOCAL_CONTAINER"``): both look the same member up, and the
    reference's value is the one kept.
    """

    @classmethod
    def _missing_(cls, value: Any) -> Any:
        if isinstance(value, str):
            for member in cls:
                if value.upper() == member.name or value.lower() == str(member.value).lower():
                    return member
        return None


class TrainingType(BothSpellings):
    """LORA trains small adapters (~1% of the parameters); FULL trains every parameter."""

    LORA = "lora"
    FULL = "full"


class CustomizationTechnique(BothSpellings):
    """How a model is customised."""

    SFT = "sft"
    DPO = "dpo"
    RLAIF = "rlaif"
    RLVR = "rlvr"
    CPT = "cpt"  # continued pre-training: no program yet, so no trainer takes it
