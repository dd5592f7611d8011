"""The base of every API shape: pydantic v2 models that validate themselves.

Shapes use the reference's snake_case field names. ``to_request()`` renders a shape the way
the SageMaker API spells it (PascalCase keys, ``None`` left out), which is how requests and
descriptions are stored.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from sageyard.core.exceptions import ConfigurationError

M = TypeVar("M", bound=BaseModel)

# Fields whose PascalCase form is not the plain capitalisation of the snake_case name.
_SPECIAL = {"s3": "S3", "uri": "Uri", "kms": "Kms", "id": "Id", "ids": "Ids", "gb": "GB"}


def pascal_case(name: str) -> str:
    """``s3_output_path`` → ``S3OutputPath``; ``volume_size_in_gb`` → ``VolumeSizeInGB``."""
    return "".join(_SPECIAL.get(part, part[:1].upper() + part[1:]) for part in name.split("_"))


def api_name(cls: type[BaseModel], field: str) -> str:
    """How the SageMaker API spells ``cls``'s ``field``.

    A shape built from the service model records its members' exact names
    (``auto_ml_job_name`` → ``AutoMLJobName``); other fields are :func:`pascal_case`.

    Example:
        >>> from sageyard.core.shapes import StoppingCondition
        >>> api_name(StoppingCondition, "max_runtime_in_seconds")
        'MaxRuntimeInSeconds'
    """
    names: dict[str, str] = getattr(cls, "__api_names__", None) or {}
    return names.get(field) or pascal_case(field)


def to_request(value: Any) -> Any:
    """Render shapes (recursively) as API dicts with PascalCase keys and no ``None`` values."""
    if isinstance(value, BaseModel):
        cls = type(value)
        return {
            api_name(cls, name): to_request(item)
            for name, item in value
            if item is not None and not name.startswith("_")
        }
    if isinstance(value, list | tuple):
        return [to_request(item) for item in value]
    if isinstance(value, dict):
        return {key: to_request(item) for key, item in value.items()}
    return value


def from_request(cls: type[M], value: Any, where: str) -> M:
    """Parse an API dict (PascalCase keys, as ``to_request`` renders it) into ``cls``.

    Unknown keys are refused by the shape (``extra="forbid"``); every error is a
    ConfigurationError that names ``where`` the value sits in the request.

    Example:
        >>> from sageyard.core.shapes import StoppingCondition
        >>> stopping = {"MaxRuntimeInSeconds": 60}
        >>> from_request(StoppingCondition, stopping, "StoppingCondition").max_runtime_in_seconds
        60
    """
    if not isinstance(value, Mapping):
        raise ConfigurationError(
            f"{where} must be a mapping of {cls.__name__} fields, but got {value!r}."
        )
    try:
        return cls.model_validate(_snake_case(cls, value))
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(pascal_case(str(p)) for p in e['loc']) or where}: {e['msg']}"
            for e in error.errors()
        )
        raise ConfigurationError(f"{where} is invalid: {problems}") from None


def _snake_case(cls: type[BaseModel], value: Mapping[str, Any]) -> dict[str, Any]:
    names = {api_name(cls, name): name for name in cls.model_fields}
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = names.get(key, key)  # an unknown key stays: the shape refuses it by name
        field = cls.model_fields.get(name)
        out[name] = item if field is None else _convert(field.annotation, item)
    return out


def _convert(annotation: Any, item: Any) -> Any:
    if isinstance(item, list):
        inner = [a for t in _members(annotation) for a in typing.get_args(t) if _is_list(t)]
        return [_convert(inner[0], x) for x in item] if inner else item
    if isinstance(item, Mapping):
        models = [
            t for t in _members(annotation) if isinstance(t, type) and issubclass(t, BaseModel)
        ]
        if len(models) == 1:
            return _snake_case(models[0], item)
    return item


def _members(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        return [m for arg in typing.get_args(annotation) for m in _members(arg)]
    return [annotation]


def _is_list(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (list, tuple)


class Shape(BaseModel):
    """A configuration shape: unknown fields are refused and assignments are validated.

    A dict in the API's PascalCase (``{"Name": ..., "Regex": ...}``, as the reference's own
    examples pass them) validates as the snake_case fields it spells.
    """

    #: field → the API's spelling, where it is not ``pascal_case(field)`` (built shapes).
    __api_names__: ClassVar[dict[str, str]] = {}

    model_config = ConfigDict(
        extra="forbid", validate_assignment=True, populate_by_name=True, use_enum_values=False
    )

    @model_validator(mode="before")
    @classmethod
    def _api_spelling(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and any(key[:1].isupper() for key in data if key):
            fields = {api_name(cls, name): name for name in cls.model_fields}
            return {fields.get(key, key): value for key, value in data.items()}
        return data

    def __setattr__(self, name: str, value: Any) -> None:
        """Validate the assignment; a rejected value leaves the shape as it was.

        (pydantic stores the value before running validators that compare fields.)
        """
        if name not in type(self).model_fields:
            super().__setattr__(name, value)
            return
        before = dict(self.__dict__)
        fields_set = set(self.__pydantic_fields_set__)
        try:
            super().__setattr__(name, value)
        except ValidationError:
            self.__dict__.clear()
            self.__dict__.update(before)
            object.__setattr__(self, "__pydantic_fields_set__", fields_set)
            raise

    def to_request(self) -> dict[str, Any]:
        """This shape as the SageMaker API spells it."""
        rendered = to_request(self)
        assert isinstance(rendered, dict)
        return rendered


#: The real SDK's base classes, ``sagemaker.core.shapes.Base`` and
#: ``sagemaker.core.training.configs.BaseConfig``: here every shape and config is a Shape,
#: so ``isinstance(Compute(), BaseConfig)`` holds and subclasses of either are Shapes.
Base = Shape
BaseConfig = Shape
