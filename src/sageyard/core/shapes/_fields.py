"""Reading the fields of an API request dict (PascalCase, as boto3 sends it), with errors
that say where in the request the bad value sits and what it should be.

The request validators of the services (``jobs/request.py``, ``tuning/request.py``) read
their requests with these, so both refuse the same mistakes in the same words.

Example:
    >>> request_mapping({"A": 1}, "CreateTrainingJob")
    {'A': 1}
    >>> only_known({"A": 1}, {"A", "B"}, "CreateTrainingJob")
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel

from sageyard.core.exceptions import ConfigurationError
from sageyard.core.shapes._base import from_request

M = TypeVar("M", bound=BaseModel)


def request_mapping(value: Any, where: str) -> dict[str, Any]:
    """``value`` as a dict; a ConfigurationError naming ``where`` if it is not a mapping."""
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"{where} must be a mapping, but got {value!r}.")
    return dict(value)


def only_known(value: Mapping[str, Any], keys: set[str], where: str) -> None:
    """Refuse keys of ``value`` outside ``keys``, listing the known ones."""
    unknown = sorted(set(value) - keys)
    if unknown:
        raise ConfigurationError(
            f"{where} has unknown field(s) {unknown}; known: {', '.join(sorted(keys))}."
        )


def string_map(value: Any, where: str) -> dict[str, str]:
    """A mapping of names to strings (HyperParameters, Environment); None is empty."""
    items = request_mapping(value or {}, where)
    bad = {k: v for k, v in items.items() if not isinstance(k, str) or not isinstance(v, str)}
    if bad:
        raise ConfigurationError(
            f"{where} maps names to strings, but got {bad!r}; convert the values with str()."
        )
    return items


def name_or_base(
    request: Mapping[str, Any], extension: Mapping[str, Any], name_key: str, operation: str
) -> tuple[Any, str | None]:
    """(the exact name, the base to timestamp): exactly one of ``request[name_key]`` and
    ``extension["BaseJobName"]`` (sageyard's ``Sageyard`` key); the base must hold letters
    or digits. The caller checks the exact name by its own rule."""
    name, base = request.get(name_key), extension.get("BaseJobName")
    if (name is None) == (base is None):
        raise ConfigurationError(
            f"A {operation} request needs exactly one of {name_key} (the exact name) or "
            f"Sageyard.BaseJobName (a prefix to timestamp), but got {name_key}={name!r}, "
            f"BaseJobName={base!r}."
        )
    if base is not None and (not isinstance(base, str) or not base.strip("-")):
        raise ConfigurationError(
            f"Sageyard.BaseJobName must contain letters or digits, but got {base!r}."
        )
    return name, base


def optional_shape(cls: type[M], request: Mapping[str, Any], key: str) -> M | None:
    """``request[key]`` parsed as the shape ``cls``, or None when it is absent."""
    value = request.get(key)
    return None if value is None else from_request(cls, value, key)
