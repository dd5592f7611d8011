"""A smoke property of the API shapes built from botocore's service model
(``sageyard.core.shapes.<AnyStructure>``): for a structure drawn at random, arguments of
the right types are accepted and round-trip through ``to_request()``/``from_request``; an
unknown field and a value of the wrong type are refused with a ValueError.
"""

from __future__ import annotations

import datetime
import types
import typing
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from sageyard.core import shapes
from sageyard.core.shapes import Shape, _api, from_request
from tests.property.shape_cases import ALL
from tests.property.strategies import PROPERTY

HAND_WRITTEN = {case.cls: case for case in ALL}
BUILT_NAMES = sorted(_api.names() - set(shapes.__all__))
SCALARS: dict[Any, st.SearchStrategy[Any]] = {
    str: st.text(max_size=10),
    int: st.integers(),
    float: st.floats(allow_nan=False, allow_infinity=False),
    bool: st.booleans(),
    datetime.datetime: st.datetimes(timezones=st.just(datetime.UTC)),
    Any: st.none() | st.integers() | st.text(max_size=5),
}


def _members(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        return [a for a in typing.get_args(annotation) if a is not type(None)]
    return [annotation]


def value_for(annotation: Any, depth: int) -> st.SearchStrategy[Any] | None:
    """A strategy for ``annotation``'s values; None where the smoke property does not go."""
    (kind, *more) = _members(annotation)
    if more:
        return None
    if kind in SCALARS:
        return SCALARS[kind]
    origin = typing.get_origin(kind)
    if origin is list:
        inner = value_for(typing.get_args(kind)[0], depth + 1)
        return st.lists(inner, max_size=2) if inner is not None else st.just([])
    if origin is dict:
        inner = value_for(typing.get_args(kind)[1], depth + 1)
        if inner is None:
            return st.just({})
        return st.dictionaries(st.text(max_size=5), inner, max_size=2)
    if isinstance(kind, type) and issubclass(kind, Shape):
        if kind in HAND_WRITTEN:
            return HAND_WRITTEN[kind].valid.map(lambda args: kind(**args))
        nested = shape_args(kind, depth + 1) if depth < 3 else None
        return None if nested is None else nested.map(lambda args: kind(**args))
    return None


def shape_args(cls: type[Shape], depth: int = 0) -> st.SearchStrategy[dict[str, Any]] | None:
    """Arguments for ``cls``; None when a required field has no strategy here."""
    required: dict[str, st.SearchStrategy[Any]] = {}
    optional: dict[str, st.SearchStrategy[Any]] = {}
    for name, field in cls.model_fields.items():
        values = value_for(field.annotation, depth)
        if field.is_required():
            if values is None:
                return None
            required[name] = values
        elif values is not None:
            optional[name] = values
    return st.fixed_dictionaries(required, optional=optional)


def built(name: str) -> type[Shape]:
    cls = getattr(shapes, name)
    assert issubclass(cls, Shape)
    return cls


@st.composite
def structure(draw: st.DrawFn) -> tuple[type[Shape], dict[str, Any]]:
    cls = built(draw(st.sampled_from(BUILT_NAMES)))
    args = shape_args(cls)
    assume(args is not None)
    assert args is not None
    return cls, draw(args)


@PROPERTY
@given(structure())
def test_built_shapes_accept_and_round_trip_their_values(
    cls_and_args: tuple[type[Shape], dict[str, Any]],
) -> None:
    cls, args = cls_and_args
    shape = cls(**args)
    assert from_request(cls, shape.to_request(), cls.__name__) == shape


@PROPERTY
@given(structure(), st.data())
def test_built_shapes_refuse_unknown_fields_and_wrong_types(
    cls_and_args: tuple[type[Shape], dict[str, Any]], data: st.DataObject
) -> None:
    cls, args = cls_and_args
    with pytest.raises(ValueError):
        cls(**args, no_such_field=1)
    strings = [n for n, f in cls.model_fields.items() if _members(f.annotation) == [str]]
    if strings:
        name = data.draw(st.sampled_from(strings))
        with pytest.raises(ValueError):
            cls(**{**args, name: data.draw(st.lists(st.integers(), min_size=1) | st.just({}))})
