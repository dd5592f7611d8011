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
from sageyard.programs import program
from sageyard.tuning.autotune import KNOWN_RANGES, autotune_ranges, known_ranges


def test_known_ranges_cover_common_and_builtin_names() -> None:
    common = ("learning_rate", "batch_size", "epochs", "dropout", "weight_decay")
    xgboost = ("eta", "max_depth", "subsample", "num_round", "min_child_weight")
    known = known_ranges()
    for name in (*common, *xgboost, "mini_batch_size", "use_bias"):
        assert name in known, name
        assert isinstance(known[name], ParameterRange)


def test_the_builtin_names_have_the_ranges_their_programs_tune() -> None:
    # One copy: a script's eta gets the range the XGBoost program tunes.
    known = known_ranges()
    for name in ("xgboost", "kmeans", "linear-learner"):
        for hyperparameter, parameter in program(name).tunable_ranges.items():
            if hyperparameter not in KNOWN_RANGES:
                assert known[hyperparameter] == parameter, hyperparameter
    assert not {"eta", "max_depth", "use_bias", "l1"} & set(KNOWN_RANGES)


def test_a_name_two_algorithms_tune_differently_is_not_taken_from_either(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kmeans = program("kmeans").tunable_ranges["mini_batch_size"]
    assert kmeans != program("linear-learner").tunable_ranges["mini_batch_size"]
    monkeypatch.delitem(KNOWN_RANGES, "mini_batch_size")
    assert "mini_batch_size" not in known_ranges()
    assert autotune_ranges({"mini_batch_size": 500}, []) == {}


def test_common_names_win_over_the_builtin_ranges() -> None:
    assert known_ranges()["learning_rate"] == KNOWN_RANGES["learning_rate"]
    assert known_ranges()["epochs"] == KNOWN_RANGES["epochs"]


def test_fine_tuning_options_are_not_names_of_training_scripts() -> None:
    assert "beta" in program("dpo").tunable_ranges
    assert "beta" not in known_ranges()


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
    assert autotune_ranges({"use_bias": True}, [])["use_bias"] == known_ranges()["use_bias"]


def test_known_ranges_are_not_changed_by_widening() -> None:
    before = KNOWN_RANGES["learning_rate"]
    autotune_ranges({"learning_rate": 3.0}, [])
    assert KNOWN_RANGES["learning_rate"] == before == ContinuousParameter(1e-5, 1e-1, "Logarithmic")


@pytest.mark.parametrize("name", ["num_round", "batch_size_log"])
def test_a_log_integer_range_widened_to_zero_becomes_linear(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(KNOWN_RANGES, "batch_size_log", IntegerParameter(8, 512, "Logarithmic"))
    chosen = autotune_ranges({name: 0}, [])[name]
    assert chosen.is_valid(0)
    assert chosen.scaling_type == "Linear"  # type: ignore[attr-defined]


def test_a_string_current_value_does_not_repeat_a_category() -> None:
    chosen = autotune_ranges({"batch_size": "32"}, [])["batch_size"]
    rendered = chosen.as_tuning_range("batch_size")["Values"]
    assert len(rendered) == len(set(rendered))


def test_a_builtin_programs_own_ranges_are_used_whole() -> None:
    ranges = program("kmeans").tunable_ranges
    chosen = autotune_ranges({"k": 10, "epochs": 20}, ["init_method"], ranges)
    assert set(chosen) == {"extra_center_factor", "mini_batch_size", "epochs"}
    assert chosen["epochs"] == IntegerParameter(1, 20)  # widened to hold the trainer's value
