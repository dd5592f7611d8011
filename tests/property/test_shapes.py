"""Properties of every hand-written configuration shape (``sageyard.core.shapes``, which
``sageyard.train.configs`` re-exports).

- A valid value is accepted, renders as JSON-ready API form (``to_request()``), and that
  form reads back, through ``from_request`` and through the PascalCase spelling, as the same
  shape.
- A value that breaks one documented rule is refused with a ValueError, built from keyword
  arguments or read from the API form; assigning it to a valid shape is refused too and
  leaves the shape as it was.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sageyard.core.shapes import api_name, from_request, to_request
from sageyard.train import configs
from tests.property.shape_cases import ALL, Case
from tests.property.strategies import PROPERTY

EVERY_CASE = pytest.mark.parametrize("case", ALL, ids=str)


def api_form(case: Case, args: dict[str, Any], keep: set[str]) -> dict[str, Any]:
    """``args`` as the API spells them (None left out, except the fields in ``keep``)."""
    return {
        api_name(case.cls, name): to_request(value)
        for name, value in args.items()
        if value is not None or name in keep
    }


def test_every_config_of_the_train_module_has_a_case() -> None:
    shapes = {
        getattr(configs, name)
        for name in configs.__all__
        if isinstance(getattr(configs, name), type)
        and name not in ("BaseConfig", "Mode", "TrainingJobCompute")
    }
    assert shapes <= {c.cls for c in ALL}


@EVERY_CASE
@PROPERTY
@given(data=st.data())
def test_valid_values_are_accepted_and_round_trip(case: Case, data: st.DataObject) -> None:
    args = data.draw(case.valid, label="args")
    shape = case.cls(**args)
    request = shape.to_request()
    assert json.loads(json.dumps(request, allow_nan=False)) == request
    assert from_request(case.cls, request, case.cls.__name__) == shape
    assert case.cls.model_validate(request) == shape
    assert case.cls(**shape.model_dump()) == shape


@EVERY_CASE
@PROPERTY
@given(data=st.data())
def test_invalid_values_are_refused(case: Case, data: st.DataObject) -> None:
    args = data.draw(case.valid, label="valid args")
    rule = data.draw(st.sampled_from(sorted(case.rules())), label="rule")
    overrides = data.draw(case.rules()[rule](args), label="overrides")
    bad = {**args, **overrides}

    with pytest.raises(ValueError):
        case.cls(**bad)
    with pytest.raises(ValueError):
        from_request(case.cls, api_form(case, bad, keep=set(overrides)), case.cls.__name__)

    if len(overrides) == 1 and rule != "unknown field":
        ((name, value),) = overrides.items()
        shape = case.cls(**args)
        before = shape.model_dump()
        with pytest.raises(ValueError):
            setattr(shape, name, value)
        assert shape.model_dump() == before
