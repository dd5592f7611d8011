"""A k-means job's hyperparameters as one checked, typed :class:`KMeansConfig`.

Pure Python (no numpy), so a bad request is reported before any data is read.

Example:
    >>> config, notes = parse_config({"k": "10", "feature_dim": "64"})
    >>> config.k, config.extra_center_factor, config.eval_metrics
    (10, None, ('msd',))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sageyard.programs._common import AlgorithmError, parse_hyperparameters
from sageyard.programs.kmeans.spec import ALGORITHM, HYPERPARAMETERS, NO_EFFECT

__all__ = ["KMeansConfig", "parse_config"]


@dataclass(frozen=True)
class KMeansConfig:
    """The hyperparameters of one k-means job; ``None`` stands for ``auto``."""

    k: int
    feature_dim: int
    epochs: int = 1
    init_method: str = "random"
    mini_batch_size: int = 5000
    extra_center_factor: int | None = None
    local_lloyd_max_iter: int = 300
    local_lloyd_tol: float = 0.0001
    local_lloyd_init_method: str = "kmeans++"
    local_lloyd_num_trials: int | None = None
    half_life_time_size: int = 0
    eval_metrics: tuple[str, ...] = ("msd",)


def _auto_int(name: str, value: Any) -> int | None:
    text = str(value).strip()
    if text.lower() == "auto":
        return None
    try:
        number = float(text)
    except ValueError:
        number = float("nan")
    if not number.is_integer() or number < 1:
        raise AlgorithmError(
            f"ClientError: Hyperparameter {name}={value!r} of the {ALGORITHM} algorithm must be "
            "'auto' or a positive integer."
        )
    return int(number)


def parse_config(raw: dict[str, str]) -> tuple[KMeansConfig, list[str]]:
    """The checked configuration, and notes on hyperparameters given that have no effect.

    Raises:
        AlgorithmError: An unknown, missing, mistyped or out-of-range hyperparameter.
    """
    values = parse_hyperparameters(HYPERPARAMETERS, raw, ALGORITHM)
    notes = [
        f"Hyperparameter {name}={raw[name]!r} has no effect in sageyard's {ALGORITHM}."
        for name in NO_EFFECT
        if name in raw
    ]
    if values["half_life_time_size"]:
        notes.append(
            f"Hyperparameter half_life_time_size={values['half_life_time_size']} has no effect: "
            "the mini-batch centers weigh every point seen equally (scikit-learn's "
            "MiniBatchKMeans)."
        )
    metrics = tuple(dict.fromkeys(values["eval_metrics"]))
    if not metrics:
        raise AlgorithmError(
            f"ClientError: Hyperparameter eval_metrics of the {ALGORITHM} algorithm names no "
            'metric; use ["msd"], ["ssd"] or ["msd", "ssd"].'
        )
    config = KMeansConfig(
        k=values["k"],
        feature_dim=values["feature_dim"],
        epochs=values["epochs"],
        init_method=values["init_method"],
        mini_batch_size=values["mini_batch_size"],
        extra_center_factor=_auto_int("extra_center_factor", values["extra_center_factor"]),
        local_lloyd_max_iter=values["local_lloyd_max_iter"],
        local_lloyd_tol=values["local_lloyd_tol"],
        local_lloyd_init_method=values["local_lloyd_init_method"],
        local_lloyd_num_trials=_auto_int(
            "local_lloyd_num_trials", values["local_lloyd_num_trials"]
        ),
        half_life_time_size=values["half_life_time_size"],
        eval_metrics=metrics,
    )
    return config, notes
