"""Autotune: ranges for the hyperparameters sageyard knows, when the user gives none.

A built-in program's own tunable ranges (``ProgramSpec.tunable_ranges``) are used whole.
For a training script, the hyperparameters it sets that sageyard knows by name:
:data:`KNOWN_RANGES` (common names in training scripts), then the built-in algorithms'
tunable ranges for the names it lacks (a script that sets ``eta`` or ``use_bias`` gets the
range the built-in algorithm with that hyperparameter tunes; a name two algorithms tune
differently is not taken from them). A range is widened to contain the trainer's current
value.

Example:
    >>> sorted(autotune_ranges({"learning_rate": 0.5, "eta": 0.2, "mystery": 1}, []))
    ['eta', 'learning_rate']
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from sageyard.core.parameter import (
    CategoricalParameter,
    ContinuousParameter,
    IntegerParameter,
    ParameterRange,
)
from sageyard.runtime.environment import serialize_hyperparameter

__all__ = ["KNOWN_RANGES", "autotune_ranges", "known_ranges"]

#: Common names in training scripts (the built-in algorithms' come from their specs).
KNOWN_RANGES: dict[str, ParameterRange] = {
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
    "mini_batch_size": IntegerParameter(100, 5000, "Logarithmic"),
}


@cache
def _builtin_ranges() -> dict[str, ParameterRange]:
    """The built-in algorithms' tunable ranges by name, for names only one range goes by.

    A name two algorithms tune over different ranges (k-means' and linear-learner's
    ``mini_batch_size``) says nothing about a script's, so it is left out: the registry's
    order must not decide. Fine-tuning programs are left out too: their options are the
    trainers' own, not names a training script shares.
    """
    from sageyard.programs import program, program_names

    seen: dict[str, list[ParameterRange]] = {}
    for name in program_names(fine_tuning=False):
        for hyperparameter, parameter in program(name).tunable_ranges.items():
            seen.setdefault(hyperparameter, []).append(parameter)
    return {
        name: ranges[0]
        for name, ranges in seen.items()
        if all(other == ranges[0] for other in ranges[1:])
    }


def known_ranges() -> dict[str, ParameterRange]:
    """Every name autotune knows for a training script, with its range: :data:`KNOWN_RANGES`,
    then the built-in algorithms' tunable ranges for the names it lacks."""
    return {**_builtin_ranges(), **KNOWN_RANGES}


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
    algorithm_ranges: Mapping[str, ParameterRange] | None = None,
) -> dict[str, ParameterRange]:
    """Ranges for the known hyperparameters of a trainer, except those kept static.

    A built-in program's own tunable ranges (``algorithm_ranges``) are used whole (its
    hyperparameters have documented defaults, so they need not be set on the trainer);
    otherwise the trainer's hyperparameters that sageyard knows by name
    (:func:`known_ranges`).
    """
    if algorithm_ranges:
        return {
            name: _around(parameter, hyperparameters.get(name))
            for name, parameter in algorithm_ranges.items()
            if name not in keep_static
        }
    known = known_ranges()
    return {
        name: _around(known[name], value)
        for name, value in hyperparameters.items()
        if name in known and name not in keep_static
    }
