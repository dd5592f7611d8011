"""The hyperparameter ranges of ``sageyard.core.parameter``: fields, API form and every rule."""

from __future__ import annotations

import re
from typing import Any

import pytest

from sageyard.core.exceptions import ConfigurationError
from sageyard.core.parameter import (
    CategoricalParameter,
    ContinuousParameter,
    IntegerParameter,
    ParameterRange,
    ScalingType,
    range_from_request,
)


def refused(match: str, build: Any, *args: Any) -> ConfigurationError:
    """``build(*args)`` raises a ValueError (ConfigurationError) containing ``match``."""
    with pytest.raises(ValueError, match=re.escape(match)) as excinfo:
        build(*args)
    assert isinstance(excinfo.value, ConfigurationError)
    return excinfo.value


# -- fields and defaults --------------------------------------------------------------------


def test_ranges_keep_the_reference_fields_and_default_to_auto_scaling() -> None:
    continuous = ContinuousParameter(0.001, 0.1)
    assert (continuous.min_value, continuous.max_value) == (0.001, 0.1)
    assert continuous.scaling_type == "Auto"
    integer = IntegerParameter(min_value=32, max_value=256, scaling_type="Linear")
    assert (integer.min_value, integer.max_value, integer.scaling_type) == (32, 256, "Linear")
    assert CategoricalParameter(values=["adam", "sgd"]).values == ["adam", "sgd"]
    for parameter in (continuous, integer, CategoricalParameter(["a"])):
        assert isinstance(parameter, ParameterRange)


def test_the_api_keys_of_the_ranges() -> None:
    """An instance's ``__name__`` is its key in the API's ParameterRanges."""
    assert ContinuousParameter(0, 1).__name__ == "Continuous"
    assert IntegerParameter(0, 1).__name__ == "Integer"
    assert CategoricalParameter(["a"]).__name__ == "Categorical"


def test_scaling_type_constants() -> None:
    assert ScalingType.AUTO == "Auto"
    assert ScalingType.LINEAR == "Linear"
    assert ScalingType.LOGARITHMIC == "Logarithmic"
    assert ScalingType.REVERSE_LOGARITHMIC == "ReverseLogarithmic"


@pytest.mark.parametrize("scaling", ["Auto", "Linear", "Logarithmic", "ReverseLogarithmic"])
def test_every_scaling_type_is_accepted_where_it_applies(scaling: str) -> None:
    assert ContinuousParameter(0.01, 0.9, scaling).scaling_type == scaling


def test_a_single_point_range_is_allowed() -> None:
    assert ContinuousParameter(0.5, 0.5).min_value == 0.5
    assert IntegerParameter(3, 3).max_value == 3


def test_integer_bounds_given_as_whole_floats_become_ints() -> None:
    parameter = IntegerParameter(1.0, 8.0)  # type: ignore[arg-type]
    assert (parameter.min_value, parameter.max_value) == (1, 8)
    assert isinstance(parameter.min_value, int)


def test_a_categorical_accepts_strings_and_numbers_and_a_single_value() -> None:
    assert CategoricalParameter([16, 32.5, "x"]).values == [16, 32.5, "x"]
    assert CategoricalParameter(("a", "b")).values == ["a", "b"]
    assert CategoricalParameter("only").values == ["only"]


# -- the API form -----------------------------------------------------------------------------


def test_as_tuning_range_renders_the_api_form() -> None:
    assert ContinuousParameter(0.001, 0.1, "Logarithmic").as_tuning_range("lr") == {
        "Name": "lr",
        "MinValue": "0.001",
        "MaxValue": "0.1",
        "ScalingType": "Logarithmic",
    }
    assert IntegerParameter(1, 10).as_tuning_range("layers") == {
        "Name": "layers",
        "MinValue": "1",
        "MaxValue": "10",
        "ScalingType": "Auto",
    }
    assert CategoricalParameter(["adam", 32, 0.5]).as_tuning_range("opt") == {
        "Name": "opt",
        "Values": ["adam", "32", "0.5"],
    }


@pytest.mark.parametrize(
    "parameter",
    [
        ContinuousParameter(0.001, 0.1, "Logarithmic"),
        ContinuousParameter(0.0, 0.99, "ReverseLogarithmic"),
        ContinuousParameter(-3.5, 2.25),
        IntegerParameter(1, 100, "Linear"),
        IntegerParameter(2, 64, "Logarithmic"),
        CategoricalParameter(["adam", "sgd"]),
        CategoricalParameter([16, 32, 64]),
        CategoricalParameter([0.1, "mixed", 3]),
    ],
    ids=repr,
)
def test_range_from_request_rebuilds_the_range(parameter: ParameterRange) -> None:
    rendered = parameter.as_tuning_range("p")
    assert range_from_request(parameter.__name__, rendered) == parameter


def test_range_from_request_keeps_boolean_like_strings() -> None:
    parameter = CategoricalParameter(["true", "false"])
    assert range_from_request("Categorical", parameter.as_tuning_range("use_bias")) == parameter


def test_range_from_request_defaults_to_auto_scaling() -> None:
    rebuilt = range_from_request("Continuous", {"Name": "x", "MinValue": "0", "MaxValue": "1"})
    assert rebuilt == ContinuousParameter(0.0, 1.0, "Auto")


def test_is_valid() -> None:
    continuous = ContinuousParameter(0.0, 1.0)
    assert continuous.is_valid(0.5) and continuous.is_valid(1.0)
    assert not continuous.is_valid(1.5) and not continuous.is_valid("0.5")
    integer = IntegerParameter(1, 3)
    assert integer.is_valid(2) and not integer.is_valid(2.5) and not integer.is_valid(4)
    categorical = CategoricalParameter(["a", 1])
    assert categorical.is_valid("a") and categorical.is_valid(1) and not categorical.is_valid("b")


def test_equality_hash_and_repr() -> None:
    assert ContinuousParameter(0.1, 1.0) == ContinuousParameter(0.1, 1.0)
    assert ContinuousParameter(0.1, 1.0) != ContinuousParameter(0.1, 1.0, "Linear")
    assert ContinuousParameter(1, 2) != IntegerParameter(1, 2)
    assert len({CategoricalParameter(["a"]), CategoricalParameter(["a"])}) == 1
    assert repr(IntegerParameter(1, 2)) == (
        "IntegerParameter(min_value=1, max_value=2, scaling_type='Auto')"
    )


# -- rules --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [ContinuousParameter, IntegerParameter])
def test_min_above_max_is_refused_with_both_values(kind: type) -> None:
    refused("`min_value <= max_value` must hold, but got (min_value=5, max_value=2)", kind, 5, 2)


@pytest.mark.parametrize("kind", [ContinuousParameter, IntegerParameter])
@pytest.mark.parametrize("low", [0, -1])
def test_logarithmic_needs_a_positive_lower_bound(kind: type, low: int) -> None:
    error = refused(f"needs min_value > 0, but got min_value={low}", kind, low, 10, "Logarithmic")
    assert "Logarithmic" in str(error)


@pytest.mark.parametrize(
    ("low", "high"), [(0.0, 1.0), (-0.1, 0.5), (0.5, 1.5), (2.0, 3.0)], ids=str
)
def test_reverse_logarithmic_needs_a_range_within_zero_and_one(low: float, high: float) -> None:
    refused(
        f"needs a range within [0, 1), but got (min_value={low}, max_value={high})",
        ContinuousParameter,
        low,
        high,
        "ReverseLogarithmic",
    )


def test_reverse_logarithmic_is_only_for_continuous_ranges() -> None:
    error = refused("only for ContinuousParameter", IntegerParameter, 1, 5, "ReverseLogarithmic")
    assert "ReverseLogarithmic" in str(error)


@pytest.mark.parametrize("kind", [ContinuousParameter, IntegerParameter])
def test_an_unknown_scaling_type_is_refused(kind: type) -> None:
    error = refused("but got 'Exponential'", kind, 1, 2, "Exponential")
    assert "Auto, Linear, Logarithmic, ReverseLogarithmic" in str(error)


@pytest.mark.parametrize(
    ("bound", "value"),
    [("min_value", "0.1"), ("min_value", None), ("min_value", True), ("min_value", float("nan"))],
    ids=str,
)
def test_continuous_bounds_must_be_finite_numbers(bound: str, value: Any) -> None:
    refused(f"ContinuousParameter.{bound} must be", ContinuousParameter, value, 1.0)


def test_an_infinite_bound_is_refused() -> None:
    refused("max_value must be finite, but got inf", ContinuousParameter, 0.0, float("inf"))


@pytest.mark.parametrize("value", [1.5, "3", True, None], ids=repr)
def test_integer_bounds_must_be_integers(value: Any) -> None:
    refused(
        f"IntegerParameter.min_value must be an integer, but got {value!r}",
        IntegerParameter,
        value,
        10,
    )


def test_an_empty_categorical_is_refused() -> None:
    refused(
        "CategoricalParameter needs at least one value, but got an empty list",
        CategoricalParameter,
        [],
    )
    refused("needs at least one value", CategoricalParameter, ())


@pytest.mark.parametrize("value", [True, None, {"a": 1}, [1]], ids=repr)
def test_categorical_values_must_be_strings_or_numbers(value: Any) -> None:
    refused(f"but got {value!r}", CategoricalParameter, ["ok", value])


def test_repeated_categorical_values_are_refused() -> None:
    refused(
        "CategoricalParameter values repeat as the API sends them: ['a', 'b', 'a']",
        CategoricalParameter,
        ["a", "b", "a"],
    )


def test_cast_to_type_and_json_ranges_as_the_real_sdk() -> None:
    from sageyard.core.parameter import (
        CategoricalParameter,
        ContinuousParameter,
        IntegerParameter,
    )

    assert ContinuousParameter.cast_to_type("0.5") == 0.5
    assert IntegerParameter.cast_to_type("3") == 3
    assert CategoricalParameter.cast_to_type(1) == "1"
    assert CategoricalParameter([1, 2]).as_json_range("c") == {"Name": "c", "Values": ["1", "2"]}
    assert CategoricalParameter(["a"]).as_json_range("c") == {"Name": "c", "Values": ['"a"']}


def test_training_job_compute_is_compute() -> None:
    from sageyard.core.training.configs import Compute, TrainingJobCompute

    assert TrainingJobCompute is Compute
