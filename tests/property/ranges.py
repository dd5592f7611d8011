"""Strategies for the hyperparameter ranges of ``sageyard.core.parameter``, valid and not."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import strategies as st

from sageyard.core.parameter import (
    CategoricalParameter,
    ContinuousParameter,
    IntegerParameter,
    ParameterRange,
)
from tests.property import strategies as g

SCALINGS = ("Auto", "Linear", "Logarithmic", "ReverseLogarithmic")
FINITE = st.floats(allow_nan=False, allow_infinity=False)
#: Integers exactly representable as floats (the bounds of a continuous range may be ints).
EXACT_INT = st.integers(-(2**53), 2**53)


def ordered(values: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[Any, Any]]:
    return st.tuples(values, values).map(lambda pair: (min(pair), max(pair)))


@st.composite
def continuous(draw: st.DrawFn) -> tuple[Any, Any, str]:
    scaling = draw(st.sampled_from(SCALINGS))
    if scaling == "Logarithmic":
        low, high = draw(ordered(st.floats(min_value=5e-324, max_value=1e300)))
    elif scaling == "ReverseLogarithmic":
        low, high = draw(ordered(st.floats(min_value=0, max_value=1, exclude_max=True)))
    else:
        low, high = draw(ordered(FINITE | EXACT_INT))
    return low, high, scaling


@st.composite
def integer(draw: st.DrawFn, bound: int = 2**64) -> tuple[Any, Any, str]:
    scaling = draw(st.sampled_from(SCALINGS[:3]))
    values = st.integers(1 if scaling == "Logarithmic" else -bound, bound)
    low, high = draw(ordered(values))
    if draw(st.booleans()):  # a float with an integral value is taken as that integer
        low = float(low)
    return low, high, scaling


def api_text(value: Any) -> str:
    """A categorical value as the API sends it."""
    return value if isinstance(value, str) else json.dumps(value)


def is_canonical(value: Any) -> bool:
    """A number, or a string that is not how the API writes a number: such a value reads
    back from its API form as itself. (``"1"`` reads back as the number 1; ``"1e5"`` and
    ``" 1"`` read back as themselves.)"""
    if not isinstance(value, str):
        return True
    try:
        decoded = json.loads(value)
    except ValueError:
        return True
    number = isinstance(decoded, int | float) and not isinstance(decoded, bool)
    return not (number and json.dumps(decoded) == value)


CATEGORICAL_VALUE = st.one_of(
    st.text(max_size=30).filter(lambda v: "\x00" not in v).filter(is_canonical),
    st.integers(-(10**12), 10**12),
    FINITE,
)


def categorical() -> st.SearchStrategy[list[Any]]:
    """1-30 values, different as the API sends them, none a string the API writes a number as."""
    return st.lists(CATEGORICAL_VALUE, min_size=1, max_size=30, unique_by=api_text)


def build(kind: str, args: Any) -> ParameterRange:
    if kind == "Categorical":
        return CategoricalParameter(args)
    cls = ContinuousParameter if kind == "Continuous" else IntegerParameter
    return cls(*args)


def valid_range() -> st.SearchStrategy[tuple[str, Any]]:
    """(kind, constructor arguments) of a valid range."""
    return st.one_of(
        continuous().map(lambda a: ("Continuous", a)),
        integer().map(lambda a: ("Integer", a)),
        categorical().map(lambda a: ("Categorical", a)),
    )


# -- invalid ----------------------------------------------------------------------------------

NOT_A_NUMBER = st.one_of(
    st.none(), st.booleans(), g.text(max_size=5), st.lists(st.integers(), max_size=1)
)
NON_FINITE = st.sampled_from([math.nan, math.inf, -math.inf])


@st.composite
def bad_numeric(draw: st.DrawFn, kind: str) -> tuple[Any, Any, Any]:
    """(min, max, scaling) that breaks one rule of a numeric range of ``kind``."""
    number = FINITE if kind == "Continuous" else st.integers(-(2**31), 2**31)
    low, high = draw(ordered(number))
    rule = draw(
        st.sampled_from(
            [
                "reversed",
                "not a number",
                "non-finite",
                "scaling",
                "log at or below zero",
                "reverse log",
            ]
            + (["fractional"] if kind == "Integer" else [])
        )
    )
    if rule == "reversed":
        low, high = draw(ordered(number).filter(lambda pair: pair[0] < pair[1]))
        return high, low, "Auto"
    if rule == "not a number":
        bad = draw(NOT_A_NUMBER)
        return (bad, high, "Auto") if draw(st.booleans()) else (low, bad, "Auto")
    if rule == "non-finite":
        return draw(NON_FINITE), high, "Auto"
    if rule == "scaling":
        return low, high, draw(g.text(max_size=12).filter(lambda s: s not in SCALINGS))
    if rule == "log at or below zero":
        return draw(st.integers(-100, 0)), abs(high) + 1, "Logarithmic"
    if rule == "fractional":
        return draw(FINITE.filter(lambda v: not v.is_integer())), high, "Auto"
    # ReverseLogarithmic: Integer never; Continuous outside [0, 1)
    if kind == "Integer":
        return low, high, "ReverseLogarithmic"
    outside = draw(st.sampled_from([(-0.5, 0.5), (0.0, 1.0), (0.5, 2.0)]))
    return (*outside, "ReverseLogarithmic")


@st.composite
def bad_categorical(draw: st.DrawFn) -> Any:
    rule = draw(st.sampled_from(["empty", "too many", "repeat", "type", "too long", "nul"]))
    values = draw(categorical())
    if rule == "empty":
        return []
    if rule == "too many":
        return [f"v{i}" for i in range(draw(st.integers(31, 40)))]
    if rule == "repeat":
        return [*values, values[0]]
    if rule == "type":
        return [*values[:29], draw(st.one_of(st.none(), st.booleans(), st.just([1]), st.just({})))]
    if rule == "too long":
        return [*values[:29], draw(st.text(min_size=257, max_size=300).filter(is_canonical))]
    return [*values[:29], draw(g.text(max_size=5)) + "\x00"]
