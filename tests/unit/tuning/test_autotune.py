"""Autotune: ranges for the hyperparameters sageyard knows, widened to hold the current value."""

from __future__ import annotations

from typing import Any

import pytest

from sageyard.core.parameter import (
    CategoricalParameter,
    ContinuousParameter,
    IntegerParameter,
    ParameterRange,
)
from sageyard.tuning.autotune import KNOWN_RANGES, autotune_ranges


def test_known_ranges_cover_common_and_builtin_names() -> None:
    common = ("learning_rate", "batch_size", "epochs", "dropout", "weight_decay")
    xgboost = ("eta", "max_depth", "subsample", "num_round", "min_child_weight")
    for name in (*common, *xgboost):
        assert name in KNOWN_RANGES, name
        assert isinstance(KNOWN_RANGES[name], ParameterRange)


def test_every_known_range_is_valid_and_contains_typical_values() -> None:
    assert KNOWN_RANGES["learning_rate"].is_valid(0.001)
    assert KNOWN_RANGES["learning_rate"].scaling_type == "Logarithmic"  # type: ignore[attr-defined]
    assert KNOWN_RANGES["batch_size"].is_valid(32)
    assert KNOWN_RANGES["epochs"].is_valid(10)
    assert KNOWN_RANGES["dropout"].is_valid(0.1)


def test_the_issue_example_tunes_all_but_the_static_names() -> None:
    chosen = autotune_ranges({"learning_rate": 0.01, "epochs": 3, "batch_size": 32}, ["epochs"])
    assert set(chosen) == {"learning_rate", "batch_size"}
    assert chosen["learning_rate"] == KNOWN_RANGES["learning_rate"]
    assert chosen["batch_size"] == KNOWN_RANGES["batch_size"]


def test_unknown_names_are_left_alone() -> None:
    assert autotune_ranges({"my_flag": True, "mystery": 3}, []) == {}
    chosen = autotune_ranges({"mystery": 3, "dropout": 0.2}, [])
    assert set(chosen) == {"dropout"}


def test_everything_kept_static_gives_nothing() -> None:
    assert autotune_ranges({"learning_rate": 0.01}, ["learning_rate"]) == {}


@pytest.mark.parametrize(
    ("name", "current", "expected"),
    [
        ("learning_rate", 0.5, ContinuousParameter(1e-5, 0.5, "Logarithmic")),
        ("learning_rate", 1e-7, ContinuousParameter(1e-7, 0.1, "Logarithmic")),
        ("epochs", 100, IntegerParameter(1, 100)),
        ("dropout", 0.7, ContinuousParameter(0.0, 0.7)),
        ("momentum", 0.1, ContinuousParameter(0.1, 0.99)),
        # a log range widened down to zero becomes linear (log scaling needs min > 0)
        ("weight_decay", 0, ContinuousParameter(0, 0.1, "Linear")),
        ("batch_size", 48, CategoricalParameter([16, 32, 64, 128, 256, 48])),
        ("optimizer", "rmsprop", CategoricalParameter(["adam", "adamw", "sgd", "rmsprop"])),
    ],
)
def test_a_range_is_widened_to_hold_the_current_value(
    name: str, current: Any, expected: ParameterRange
) -> None:
    chosen = autotune_ranges({name: current}, [])[name]
    assert chosen == expected
    assert chosen.is_valid(current)


def test_a_current_value_inside_the_range_keeps_it() -> None:
    assert autotune_ranges({"epochs": 10}, [])["epochs"] == KNOWN_RANGES["epochs"]
    assert autotune_ranges({"optimizer": "sgd"}, [])["optimizer"] == KNOWN_RANGES["optimizer"]


def test_a_non_numeric_current_value_keeps_the_known_range() -> None:
    assert autotune_ranges({"epochs": "auto"}, [])["epochs"] == KNOWN_RANGES["epochs"]
    assert autotune_ranges({"use_bias": True}, [])["use_bias"] == KNOWN_RANGES["use_bias"]


def test_known_ranges_are_not_changed_by_widening() -> None:
    before = KNOWN_RANGES["learning_rate"]
    autotune_ranges({"learning_rate": 3.0}, [])
    assert KNOWN_RANGES["learning_rate"] == before == ContinuousParameter(1e-5, 1e-1, "Logarithmic")


@pytest.mark.parametrize("name", ["num_round", "mini_batch_size"])
def test_a_log_integer_range_widened_to_zero_becomes_linear(name: str) -> None:
    chosen = autotune_ranges({name: 0}, [])[name]
    assert chosen.is_valid(0)
    assert chosen.scaling_type == "Linear"  # type: ignore[attr-defined]


def test_a_string_current_value_does_not_repeat_a_category() -> None:
    chosen = autotune_ranges({"batch_size": "32"}, [])["batch_size"]
    rendered = chosen.as_tuning_range("batch_size")["Values"]
    assert len(rendered) == len(set(rendered))
