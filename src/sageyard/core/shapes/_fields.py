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

import re
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel

from sageyard.core.exceptions import ConfigurationError
from sageyard.core.shapes._base import from_request

M = TypeVar("M", bound=BaseModel)

# SageMaker's limits, as its API reference (API_CreateTrainingJob) and botocore's service
# model (sagemaker/2017-07-24) state them:
#: ``HyperParameters``: at most 100 entries, keys of at most 256 characters, values of at
#: most 2,500 ("Map Entries: Maximum number of 100 items", ``HyperParameterKey`` max 256,
#: ``HyperParameterValue`` max 2500).
MAX_HYPERPARAMETERS = 100
MAX_HYPERPARAMETER_NAME = 256
MAX_HYPERPARAMETER_VALUE = 2500
#: ``Environment`` of CreateTrainingJob: at most 100 entries (``TrainingEnvironmentMap``),
#: names matching ``[a-zA-Z_][a-zA-Z0-9_]*`` of at most 512 characters, values of at most
#: 512 (``TrainingEnvironmentKey``/``TrainingEnvironmentValue``).
MAX_ENVIRONMENT = 100
MAX_ENVIRONMENT_NAME = 512
MAX_ENVIRONMENT_VALUE = 512
_ENVIRONMENT_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


def refuse_nul(value: Any, where: str) -> None:
    """Refuse a NUL byte in any string of ``value`` (keys too), walking mappings and lists.

    No file name, command line or environment variable can hold one, so such a request can
    never start a job. The message names where the byte is, never the value (it may be a
    secret).

    Example:
        >>> refuse_nul({"HyperParameters": {"lr": "0.1"}}, "CreateTrainingJob")
    """
    if isinstance(value, str):
        if "\x00" in value:
            raise ConfigurationError(
                f"{where} contains a NUL byte (\\x00), which no file name, command line or "
                "environment variable can hold; remove it."
            )
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(key, str) and "\x00" in key:
                raise ConfigurationError(
                    f"{where} has a key with a NUL byte (\\x00) in it ({key.replace(chr(0), '')!r} "
                    "without it); remove the byte."
                )
            refuse_nul(item, f"{where}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            refuse_nul(item, f"{where}[{index}]")


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
    refuse_nul(items, where)
    return items


def hyperparameter_map(value: Any, where: str, *, reserved: int = 0) -> dict[str, str]:
    """A HyperParameters mapping within SageMaker's limits: at most 100 entries (``reserved``
    of them kept for what the platform adds, e.g. a tuning trial's objective metric), names
    of at most 256 characters, values of at most 2,500.

    Example:
        >>> hyperparameter_map({"epochs": "3"}, "HyperParameters")
        {'epochs': '3'}
    """
    items = string_map(value, where)
    room = MAX_HYPERPARAMETERS - reserved
    if len(items) > room:
        kept = f" ({reserved} are kept for the tuning job's own)" if reserved else ""
        raise ConfigurationError(
            f"{where} has {len(items)} entries, but SageMaker allows at most {room}{kept}. "
            "Pass fewer: put the rest in a file in source_dir (or an input channel) and pass "
            "its name as one hyperparameter."
        )
    for name, text in items.items():
        if len(name) > MAX_HYPERPARAMETER_NAME:
            raise ConfigurationError(
                f"{where} has a name of {len(name)} characters ({name[:40]!r}...), but "
                f"SageMaker allows at most {MAX_HYPERPARAMETER_NAME}; use a shorter name."
            )
        if len(text) > MAX_HYPERPARAMETER_VALUE:
            raise ConfigurationError(
                f"{where}[{name!r}] is {len(text):,} characters long, but SageMaker allows at "
                f"most {MAX_HYPERPARAMETER_VALUE:,} a value. Put a long value in a file in "
                "source_dir (or an input channel) and pass the file's name instead."
            )
    return items


def environment_map(value: Any, where: str, *, limit: int = MAX_ENVIRONMENT) -> dict[str, str]:
    """An Environment mapping within SageMaker's rules: at most ``limit`` entries, names that
    are environment variable names (``[a-zA-Z_][a-zA-Z0-9_]*``: no ``=``, which would split
    the name), names and values of at most 512 characters. Values are never shown in the
    messages: they may be secrets.

    Example:
        >>> environment_map({"MY_FLAG": "1"}, "Environment")
        {'MY_FLAG': '1'}
    """
    items = string_map(value, where)
    if len(items) > limit:
        raise ConfigurationError(
            f"{where} has {len(items)} variables, but SageMaker allows at most {limit}; "
            "pass fewer (e.g. one variable naming a config file in source_dir)."
        )
    for name, text in items.items():
        if not _ENVIRONMENT_NAME.fullmatch(name) or len(name) > MAX_ENVIRONMENT_NAME:
            hint = (
                " ('=' separates a variable's name from its value, so it cannot be in a name)"
                if "=" in name
                else ""
            )
            raise ConfigurationError(
                f"{where} name {name[:80]!r} is not an environment variable name{hint}: use "
                f"1-{MAX_ENVIRONMENT_NAME} letters, digits and '_', not starting with a digit "
                "(SageMaker's rule), e.g. 'MY_SETTING'."
            )
        if len(text) > MAX_ENVIRONMENT_VALUE:
            raise ConfigurationError(
                f"{where}[{name!r}] is {len(text):,} characters long, but SageMaker allows at "
                f"most {MAX_ENVIRONMENT_VALUE} a value; put a long value in a file in "
                "source_dir and pass its name instead."
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
    if base is not None and not _BASE_NAME.fullmatch(base):
        raise ConfigurationError(
            f"Sageyard.BaseJobName (base_job_name or base_tuning_job_name) must be letters, "
            f"digits and hyphens, starting with a letter or digit (SageMaker's job-name rule "
            f"[a-zA-Z0-9](-*[a-zA-Z0-9])*), but got {base[:80]!r}; e.g. 'my-experiment'."
        )
    return name, base


#: A base name: what SageMaker's name pattern allows, before the timestamp is added.
_BASE_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9-]*")


def optional_shape(cls: type[M], request: Mapping[str, Any], key: str) -> M | None:
    """``request[key]`` parsed as the shape ``cls``, or None when it is absent."""
    value = request.get(key)
    return None if value is None else from_request(cls, value, key)
