"""Autotune: ranges for the hyperparameters sageyard knows, when the user gives none.

Known names are those of the built-in algorithms (as documented for their containers) and
common ones of training scripts. A range is widened to contain the trainer's current value.
"""

from __future__ import annotations

from typing import Any

from sageyard.core.parameter import (
    CategoricalParameter,
    ContinuousParameter,
    IntegerParameter,
    ParameterRange,
)
from sageyard.runtime.environment import serialize_hyperparameter

KNOWN_RANGES: dict[str, ParameterRange] = {
    # common names in training scripts
    "learning_rate": ContinuousParameter(1e-5, 1e-1, "Logarithmic"),
    "learning-rate": ContinuousParameter(1e-5, 1e-1, "Logarithmic"),
    "lr": ContinuousParameter(1e-5, 1e-1, "Logarithmic"),
    "batch_size": CategoricalParameter([16, 32, 64, 128, 256]),
    "batch-size": CategoricalParameter([16, 32, 64, 128, 256]),
    "epochs": IntegerParameter(1, 50),
    "num_epochs": IntegerParameter(1, 50),
    "dropout": ContinuousParameter(0.0, 0.5),
    "weight_decay": ContinuousParameter(1e-6, 1e-1, "Logarithmic"),
    "momentum": ContinuousParameter(0.5, 0.99),
    "warmup_ratio": ContinuousParameter(0.0, 0.2),
    "num_layers": IntegerParameter(1, 8),
    "hidden_size": CategoricalParameter([64, 128, 256, 512]),
    "optimizer": CategoricalParameter(["adam", "adamw", "sgd"]),
    # XGBoost
    "eta": ContinuousParameter(0.01, 0.5, "Logarithmic"),
    "max_depth": IntegerParameter(2, 10),
    "min_child_weight": ContinuousParameter(0.0, 10.0),
    "subsample": ContinuousParameter(0.5, 1.0),
    "colsample_bytree": ContinuousParameter(0.5, 1.0),
    "gamma": ContinuousParameter(0.0, 5.0),
    "alpha": ContinuousParameter(0.0, 10.0),
    "lambda": ContinuousParameter(0.0, 10.0),
    "num_round": IntegerParameter(10, 500, "Logarithmic"),
    # k-means
    "mini_batch_size": IntegerParameter(100, 5000, "Logarithmic"),
    "init_method": CategoricalParameter(["random", "kmeans++"]),
    "extra_center_factor": IntegerParameter(1, 10),
    # linear learner
    "l1": ContinuousParameter(1e-7, 1.0, "Logarithmic"),
    "wd": ContinuousParameter(1e-7, 1.0, "Logarithmic"),
    "use_bias": CategoricalParameter(["true", "false"]),
}


def _around(parameter: ParameterRange, current: Any) -> ParameterRange:
    """The known range, widened (numeric) or extended (categorical) to hold ``current``."""
    if isinstance(parameter, CategoricalParameter):
        known = {serialize_hyperparameter(v) for v in parameter.values}
        if current is None or serialize_hyperparameter(current) in known:
            return parameter
        if isinstance(current, str | int | float) and not isinstance(current, bool):
            return CategoricalParameter([*parameter.values, current])
        return parameter
    if not isinstance(current, int | float) or isinstance(current, bool):
        return parameter
    assert isinstance(parameter, ContinuousParameter | IntegerParameter)
    low, high = min(parameter.min_value, current), max(parameter.max_value, current)
    scaling = (
        "Linear" if low <= 0 and parameter.scaling_type == "Logarithmic" else parameter.scaling_type
    )
    if isinstance(parameter, IntegerParameter):
        return IntegerParameter(int(low), int(high), scaling)
    return ContinuousParameter(low, high, scaling)


def autotune_ranges(
    hyperparameters: dict[str, Any],
    keep_static: list[str],
    algorithm_ranges: dict[str, ParameterRange] | None = None,
) -> dict[str, ParameterRange]:
    """Ranges for the known hyperparameters of a trainer, except those kept static.

    A built-in algorithm's own tunable ranges are used whole (its hyperparameters have
    documented defaults, so they need not be set on the trainer); otherwise the trainer's
    hyperparameters that sageyard knows by name.
    """
    if algorithm_ranges:
        return {
            name: _around(parameter, hyperparameters.get(name))
            for name, parameter in algorithm_ranges.items()
            if name not in keep_static
        }
    return {
        name: _around(KNOWN_RANGES[name], value)
        for name, value in hyperparameters.items()
        if name in KNOWN_RANGES and name not in keep_static
    }
