"""Fine-tuning options: typed checks of option values against their specs.

An option spec is ``{"type", "default", "min", "max", "enum", "description"}`` — the shape
:class:`~sageyard.train.common.FineTuningOptions` takes and
:meth:`sageyard.programs.OptionSpec.as_dict` gives. Each fine-tuning program declares its
options (``ProgramSpec.options``); the trainers build their options from
``program(name).option_specs(training_type)``, and the in-job programs parse their
``hyperparameters.json`` with :func:`parse_options`, so both sides check the same rules.

Example:
    >>> specs = {"epochs": {"type": "integer", "default": 3, "min": 1, "max": 50}}
    >>> parse_options(specs, {"epochs": "2"})
    {'epochs': 2}
    >>> check_value("epochs", specs["epochs"], 50)
    50
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Mapping
from typing import Any

# The types a spec may name, and the Python values each accepts.
TYPES = ("integer", "float", "string", "list")


def check_value(name: str, spec: Mapping[str, Any], value: Any) -> Any:
    """``value`` converted to the spec's type, or ValueError saying what is allowed."""
    kind = spec["type"]
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise _invalid(
                    f"{name} must be an integer{_range(spec)}, got {value!r} "
                    f"({type(value).__name__})."
                )
    elif kind == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _invalid(
                f"{name} must be a number{_range(spec)}, got {value!r} ({type(value).__name__})."
            )
        value = float(value)
        if not math.isfinite(value):
            raise _invalid(f"{name} must be a finite number{_range(spec)}, got {value!r}.")
    elif kind == "string":
        if not isinstance(value, str):
            raise _invalid(
                f"{name} must be a string{_choices(spec)}, got {value!r} ({type(value).__name__})."
            )
    elif kind == "list":
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if (
            not isinstance(value, list | tuple)
            or not value
            or not all(isinstance(item, str) and item for item in value)
        ):
            raise _invalid(
                f"{name} must be a non-empty list of strings (e.g. ['q_proj', 'v_proj']), "
                f"got {value!r}."
            )
        value = list(value)
    low, high = spec.get("min"), spec.get("max")
    if kind in ("integer", "float") and (
        (low is not None and value < low) or (high is not None and value > high)
    ):
        raise _invalid(f"{name}={value!r} is out of range: it must be{_range(spec)}.")
    if spec.get("enum") is not None and value not in spec["enum"]:
        raise _invalid(f"{name}={value!r} is not allowed: it must be{_choices(spec)}.")
    return value


def parse_options(specs: Mapping[str, Mapping[str, Any]], raw: Mapping[str, Any]) -> dict[str, Any]:
    """Every option, typed: the defaults overlaid with ``raw`` (string values as in a job).

    Names ``raw`` holds that no spec knows are ignored; the caller decides about them.
    """
    options = {name: copy.deepcopy(spec["default"]) for name, spec in specs.items()}
    for name, value in raw.items():
        spec = specs.get(name)
        if spec is None:
            continue
        options[name] = check_value(name, spec, _from_text(spec["type"], value))
    return options


def to_text(value: Any) -> str:
    """How an option travels in a job's hyperparameters (lists as JSON)."""
    if isinstance(value, list | tuple):
        return json.dumps(list(value))
    return str(value)


def _from_text(kind: str, value: Any) -> Any:
    if not isinstance(value, str) or kind == "string":
        return value
    text = value.strip()
    try:
        if kind == "integer":
            return int(text) if not any(c in text for c in ".eE") else float(text)
        if kind == "float":
            return float(text)
        if kind == "list" and text.startswith("["):
            return json.loads(text)
    except ValueError:
        return value
    return value


def _range(spec: Mapping[str, Any]) -> str:
    low, high = spec.get("min"), spec.get("max")
    if low is not None and high is not None:
        return f" between {low} and {high}"
    if low is not None:
        return f" of at least {low}"
    if high is not None:
        return f" of at most {high}"
    return ""


def _choices(spec: Mapping[str, Any]) -> str:
    enum = spec.get("enum")
    return f" one of {', '.join(map(repr, enum))}" if enum else ""


def _invalid(message: str) -> Exception:
    """A ConfigurationError, imported only when one is raised: the in-job programs parse
    their options with this module and must start without botocore."""
    from sageyard.core.exceptions import ConfigurationError

    return ConfigurationError(message)
