"""What the DPO program declares: its hyperparameters, metrics and tunable ranges.

Light on purpose: the facade imports this module, so it imports neither torch nor TRL.
``HYPERPARAMETERS`` maps each training type to its option specs (the program also takes
``EXTRA_HYPERPARAMETERS``); the program checks them when the job starts.

Example:
    >>> from sageyard.programs.dpo import spec
    >>> "validation:reward_margin" in [d.name for d in spec.METRIC_DEFINITIONS]
    True
    >>> sorted(spec.TUNABLE_RANGES)
    ['beta', 'epochs', 'learning_rate', 'warmup_ratio']
"""

from __future__ import annotations

from typing import Any

from sageyard.core.parameter import ContinuousParameter, IntegerParameter, ParameterRange
from sageyard.core.shapes import MetricDefinition
from sageyard.models.options import TRAINING_TYPES, option_specs
from sageyard.programs._llm import EXTRA_HYPERPARAMETERS, check_job_hyperparameters
from sageyard.programs._llm_metrics import metric_definitions

__all__ = [
    "ALGORITHM",
    "EXTRA_HYPERPARAMETERS",
    "HYPERPARAMETERS",
    "METRIC_DEFINITIONS",
    "TUNABLE_RANGES",
    "check_hyperparameters",
]

ALGORITHM = "DPO"

HYPERPARAMETERS: dict[str, dict[str, dict[str, Any]]] = {
    training_type: option_specs("dpo", training_type) for training_type in TRAINING_TYPES
}

# TRL's rewards/margins, rewards/accuracies, ... as train:reward_margin, train:reward_accuracy
_REWARDS = ("margin", "accuracy", "chosen", "rejected")
METRIC_DEFINITIONS: list[MetricDefinition] = metric_definitions(
    *(f"{kind}:reward_{name}" for kind in ("train", "validation") for name in _REWARDS)
)

# Options both training types take (autotune uses every range, whatever the training type):
# a learning rate that spans full fine-tuning (~1e-6) and LoRA (~5e-5), and DPO's beta.
TUNABLE_RANGES: dict[str, ParameterRange] = {
    "learning_rate": ContinuousParameter(1e-7, 1e-4, "Logarithmic"),
    "beta": ContinuousParameter(0.01, 0.5, "Logarithmic"),
    "epochs": IntegerParameter(1, 5, "Linear"),
    "warmup_ratio": ContinuousParameter(0.0, 0.2, "Linear"),
}


def check_hyperparameters(values: dict[str, str]) -> None:
    """Refuse a job's hyperparameters before the job exists (what the program would)."""
    check_job_hyperparameters(values, "dpo")
