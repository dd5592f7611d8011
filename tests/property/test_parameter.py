"""Properties of the hyperparameter ranges (``sageyard.core.parameter``).

A valid range is accepted, holds its own bounds (or values), and its API form
(``as_tuning_range``) reads back (``range_from_request``) as the same range; a range that
breaks one documented rule is refused with a ValueError.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from sageyard.core.parameter import (
    CategoricalParameter,
    ContinuousParameter,
    IntegerParameter,
    range_from_request,
)
from tests.property import ranges
from tests.property.strategies import PROPERTY


@PROPERTY
@given(ranges.valid_range())
def test_valid_ranges_are_accepted_and_round_trip(kind_and_args: tuple[str, Any]) -> None:
    kind, args = kind_and_args
    parameter = ranges.build(kind, args)
    api = parameter.as_tuning_range("hp")
    assert json.loads(json.dumps(api, allow_nan=False)) == api
    assert all(isinstance(v, str) for k, v in api.items() if k != "Values")
    assert all(isinstance(v, str) for v in api.get("Values", []))
    again = range_from_request(kind, api)
    assert again == parameter  # an int bound of a continuous range reads back as its float
    if isinstance(parameter, CategoricalParameter):
        assert again.as_tuning_range("hp") == api
        assert all(parameter.is_valid(v) for v in parameter.values)
    else:
        assert parameter.is_valid(parameter.min_value)
        assert parameter.is_valid(parameter.max_value)


@PROPERTY
@given(
    st.sampled_from(["Continuous", "Integer"]).flatmap(
        lambda kind: ranges.bad_numeric(kind).map(lambda args: (kind, args))
    )
)
def test_invalid_numeric_ranges_are_refused(kind_and_args: tuple[str, Any]) -> None:
    kind, (low, high, scaling) = kind_and_args
    cls = ContinuousParameter if kind == "Continuous" else IntegerParameter
    with pytest.raises(ValueError):
        cls(low, high, scaling)


@PROPERTY
@given(ranges.bad_categorical())
def test_invalid_categorical_ranges_are_refused(values: Any) -> None:
    with pytest.raises(ValueError):
        CategoricalParameter(values)


@PROPERTY
@given(st.integers(-1000, 1000) | ranges.FINITE)
def test_values_that_the_api_sends_alike_are_refused(number: Any) -> None:
    with pytest.raises(ValueError):
        CategoricalParameter([json.dumps(number), number])


@PROPERTY
@example("1e5")
@given(
    st.one_of(
        st.floats(allow_nan=False, allow_infinity=False).map(lambda v: f"{v:e}"),
        st.integers().map(lambda v: f" {v}"),
        st.integers(1, 10**6).map(lambda v: f"{v}E0"),
    )
)
def test_a_numeric_looking_string_reads_back_as_the_same_string(value: str) -> None:
    parameter = CategoricalParameter([value])
    again = range_from_request("Categorical", parameter.as_tuning_range("hp"))
    assert again.as_tuning_range("hp") == parameter.as_tuning_range("hp")


@PROPERTY
@given(st.integers(400, 1000))
def test_a_continuous_bound_beyond_float_range_is_refused(digits: int) -> None:
    with pytest.raises(ValueError):
        ContinuousParameter(0, 10**digits)
