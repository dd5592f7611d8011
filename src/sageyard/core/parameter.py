"""Hyperparameter ranges for tuning jobs, with the reference's names and scaling types.

Example:
    >>> from sageyard.core.parameter import ContinuousParameter, CategoricalParameter
    >>> ContinuousParameter(0.001, 0.1, scaling_type="Logarithmic").as_tuning_range("lr")
    {'Name': 'lr', 'MinValue': '0.001', 'MaxValue': '0.1', 'ScalingType': 'Logarithmic'}
    >>> CategoricalParameter(["adam", "sgd"]).values
    ['adam', 'sgd']
"""

from __future__ import annotations

import json
import math
from collections import Counter
from typing import Any, ClassVar

from sageyard.core.exceptions import ConfigurationError

__all__ = [
    "CategoricalParameter",
    "ContinuousParameter",
    "IntegerParameter",
    "ParameterRange",
    "ScalingType",
    "range_from_request",
]

SCALING_TYPES = ("Auto", "Linear", "Logarithmic", "ReverseLogarithmic")
#: SageMaker's limits on a categorical range (API_CategoricalParameterRange, and
#: ``ParameterValues``/``ParameterValue`` in botocore's service model): 1 to 30 values, each
#: at most 256 characters as the API sends it.
MAX_CATEGORICAL_VALUES = 30
MAX_CATEGORICAL_VALUE_LENGTH = 256


class ScalingType:
    """The scaling types as constants (``ScalingType.LOGARITHMIC == "Logarithmic"``)."""

    AUTO = "Auto"
    LINEAR = "Linear"
    LOGARITHMIC = "Logarithmic"
    REVERSE_LOGARITHMIC = "ReverseLogarithmic"


class ParameterRange:
    """Base of the ranges; ``__name__`` is the key of the API's ParameterRanges."""

    __name__: ClassVar[str] = ""

    def is_valid(self, value: Any) -> bool:
        raise NotImplementedError

    def as_tuning_range(self, name: str) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def cast_to_type(cls, value: Any) -> Any:
        """``value`` as this range's type (the real SDK's): float for a continuous range."""
        return float(value)

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and vars(self) == vars(other)

    def __hash__(self) -> int:
        return hash((type(self).__name__, json.dumps(vars(self), sort_keys=True, default=str)))

    def __repr__(self) -> str:
        fields = ", ".join(f"{key}={value!r}" for key, value in vars(self).items())
        return f"{type(self).__name__}({fields})"


class _NumericRange(ParameterRange):
    _kind: ClassVar[str] = "number"

    def __init__(
        self, min_value: float, max_value: float, scaling_type: str = ScalingType.AUTO
    ) -> None:
        label = type(self).__name__
        for bound, value in (("min_value", min_value), ("max_value", max_value)):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigurationError(f"{label}.{bound} must be a number, but got {value!r}.")
            if isinstance(value, float) and not math.isfinite(value):
                raise ConfigurationError(f"{label}.{bound} must be finite, but got {value!r}.")
        if min_value > max_value:
            raise ConfigurationError(
                f"{label}: `min_value <= max_value` must hold, but got "
                f"(min_value={min_value}, max_value={max_value})."
            )
        if scaling_type not in SCALING_TYPES:
            raise ConfigurationError(
                f"{label}.scaling_type must be one of {', '.join(SCALING_TYPES)}, but got "
                f"{scaling_type!r}."
            )
        if scaling_type == ScalingType.LOGARITHMIC and min_value <= 0:
            raise ConfigurationError(
                f"{label} with scaling_type='Logarithmic' needs min_value > 0, but got "
                f"min_value={min_value}; use 'Linear' or raise the lower bound."
            )
        self.min_value = min_value
        self.max_value = max_value
        self.scaling_type = scaling_type

    def is_valid(self, value: Any) -> bool:
        return isinstance(value, int | float) and self.min_value <= value <= self.max_value

    def as_tuning_range(self, name: str) -> dict[str, Any]:
        return {
            "Name": name,
            "MinValue": str(self.min_value),
            "MaxValue": str(self.max_value),
            "ScalingType": self.scaling_type,
        }


class ContinuousParameter(_NumericRange):
    """A float between ``min_value`` and ``max_value`` (both inclusive).

    ``ReverseLogarithmic`` scaling (dense near ``max_value``) needs ``0 <= min_value`` and
    ``max_value < 1``.
    """

    __name__ = "Continuous"

    def __init__(
        self, min_value: float, max_value: float, scaling_type: str = ScalingType.AUTO
    ) -> None:
        for bound, value in (("min_value", min_value), ("max_value", max_value)):
            _check_float_range(value, bound)
        super().__init__(min_value, max_value, scaling_type)
        if scaling_type == ScalingType.REVERSE_LOGARITHMIC and not (
            min_value >= 0 and max_value < 1
        ):
            raise ConfigurationError(
                "ContinuousParameter with scaling_type='ReverseLogarithmic' needs a range "
                f"within [0, 1), but got (min_value={min_value}, max_value={max_value})."
            )


class IntegerParameter(_NumericRange):
    """An integer between ``min_value`` and ``max_value`` (both inclusive)."""

    __name__ = "Integer"

    def __init__(
        self, min_value: int, max_value: int, scaling_type: str = ScalingType.AUTO
    ) -> None:
        bounds: tuple[tuple[str, object], ...] = (
            ("min_value", min_value),
            ("max_value", max_value),
        )
        for bound, value in bounds:
            if isinstance(value, float) and value.is_integer():
                continue
            if isinstance(value, bool) or not isinstance(value, int):
                raise ConfigurationError(
                    f"IntegerParameter.{bound} must be an integer, but got {value!r}."
                )
        if scaling_type == ScalingType.REVERSE_LOGARITHMIC:
            raise ConfigurationError(
                "scaling_type='ReverseLogarithmic' is only for ContinuousParameter ranges "
                "within [0, 1); use 'Linear' or 'Logarithmic' for an IntegerParameter."
            )
        super().__init__(int(min_value), int(max_value), scaling_type)

    def is_valid(self, value: Any) -> bool:
        return isinstance(value, int) and super().is_valid(value)

    @classmethod
    def cast_to_type(cls, value: Any) -> int:
        return int(value)


class CategoricalParameter(ParameterRange):
    """One of a list of values (strings or numbers)."""

    __name__ = "Categorical"

    def __init__(self, values: list[Any] | tuple[Any, ...] | Any) -> None:
        items = list(values) if isinstance(values, list | tuple) else [values]
        if not items:
            raise ConfigurationError(
                "CategoricalParameter needs at least one value, but got an empty list."
            )
        for value in items:
            if not isinstance(value, str | int | float) or isinstance(value, bool):
                raise ConfigurationError(
                    "CategoricalParameter values must be strings or numbers, but got "
                    f"{value!r} ({type(value).__name__})."
                )
        sent = [_api_text(v) for v in items]
        repeated = sorted(text for text, count in Counter(sent).items() if count > 1)
        if repeated:
            alike = len({json.dumps(v) for v in items}) == len(items)  # '1' and 1
            hint = " (the string '1' and the number 1 are both sent as '1')" if alike else ""
            raise ConfigurationError(
                f"CategoricalParameter values repeat as the API sends them{hint}: {items} "
                f"sends {', '.join(map(repr, repeated))} more than once; give each value once."
            )
        if len(items) > MAX_CATEGORICAL_VALUES:
            raise ConfigurationError(
                f"CategoricalParameter has {len(items)} values, but SageMaker allows at most "
                f"{MAX_CATEGORICAL_VALUES} in one categorical range; keep the most promising "
                "ones, or tune a numeric value with IntegerParameter/ContinuousParameter."
            )
        for text in sent:
            if len(text) > MAX_CATEGORICAL_VALUE_LENGTH:
                raise ConfigurationError(
                    f"CategoricalParameter value {text[:40]!r}... is {len(text)} characters long, "
                    f"but SageMaker allows at most {MAX_CATEGORICAL_VALUE_LENGTH}; use a short "
                    "name for it and let the script map the name to the long value."
                )
            if "\x00" in text:
                raise ConfigurationError(
                    f"CategoricalParameter value {text.replace(chr(0), '')!r} contains a NUL byte "
                    "(\\x00), which no hyperparameter can hold; remove it."
                )
        self.values = items

    @classmethod
    def cast_to_type(cls, value: Any) -> str:
        return str(value)

    def as_json_range(self, name: str) -> dict[str, Any]:
        """The range with JSON-encoded values, as the deep-learning framework images read
        their hyperparameters (the real SDK's)."""
        return {"Name": name, "Values": [json.dumps(value) for value in self.values]}

    def is_valid(self, value: Any) -> bool:
        return value in self.values

    def as_tuning_range(self, name: str) -> dict[str, Any]:
        return {
            "Name": name,
            "Values": [_api_text(v) for v in self.values],
        }


def _api_text(value: str | int | float) -> str:
    """A categorical value as the API sends it: a string as it is, a number as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def _check_float_range(value: Any, bound: str) -> None:
    """An int bound of a continuous range must be a finite float too: its API form is read
    back as a float, and ``10**400`` would read back as infinity."""
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            float(value)
        except OverflowError:
            size = f"{'-' if value < 0 else ''}10**{int(value.bit_length() * math.log10(2))}"
            raise ConfigurationError(
                f"ContinuousParameter.{bound} must be finite as a float, but got an integer "
                f"of about {size}, beyond the float range (at most about 1.8e308); use a "
                "smaller bound."
            ) from None


def range_from_request(kind: str, item: dict[str, Any]) -> ParameterRange:
    """Rebuild a range from its API form (``kind``: Continuous, Integer or Categorical)."""
    if kind == "Categorical":
        return CategoricalParameter([_categorical_value(v) for v in item["Values"]])
    scaling = item.get("ScalingType", ScalingType.AUTO)
    if kind == "Integer":
        return IntegerParameter(int(item["MinValue"]), int(item["MaxValue"]), scaling)
    return ContinuousParameter(float(item["MinValue"]), float(item["MaxValue"]), scaling)


def _categorical_value(text: str) -> Any:
    """A categorical value from its API form: the number it was, where ``text`` is exactly
    how :func:`_api_text` writes that number (``'1'``, ``'0.5'``, ``'1e+16'``); the string
    as given otherwise, so ``'1e5'`` and ``' 1'`` read back as themselves."""
    try:
        decoded = json.loads(text)
    except ValueError:
        return text
    number = isinstance(decoded, int | float) and not isinstance(decoded, bool)
    return decoded if number and json.dumps(decoded) == text else text
