"""What the SFT program declares: its hyperparameters, metrics and tunable ranges.

Light on purpose: the facade imports this module, so it imports neither torch nor TRL.
``HYPERPARAMETERS`` maps each training type to its option specs (the program also takes
``EXTRA_HYPERPARAMETERS``); the program checks them when the job starts.

Example:
    >>> from sageyard.programs.sft import spec
    >>> [d.name for d in spec.METRIC_DEFINITIONS][:2]
    ['train:loss', 'validation:loss']
    >>> sorted(spec.TUNABLE_RANGES)
    ['epochs', 'learning_rate', 'warmup_ratio', 'weight_decay']
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

ALGORITHM = "SFT"

HYPERPARAMETERS: dict[str, dict[str, dict[str, Any]]] = {
    training_type: option_specs("sft", training_type) for training_type in TRAINING_TYPES
}

METRIC_DEFINITIONS: list[MetricDefinition] = metric_definitions(
    "train:token_accuracy", "validation:token_accuracy"
)

# Options both training types take (autotune uses every range, whatever the training type):
# a learning rate that spans full fine-tuning (~1e-5) and LoRA (~2e-4), and the schedule.
TUNABLE_RANGES: dict[str, ParameterRange] = {
    "learning_rate": ContinuousParameter(1e-6, 1e-3, "Logarithmic"),
    "epochs": IntegerParameter(1, 5, "Linear"),
    "warmup_ratio": ContinuousParameter(0.0, 0.2, "Linear"),
    "weight_decay": ContinuousParameter(0.0, 0.1, "Linear"),
}


def check_hyperparameters(values: dict[str, str]) -> None:
    """Refuse a job's hyperparameters before the job exists (what the program would)."""
    check_job_hyperparameters(values, "sft")
