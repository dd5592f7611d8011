"""The base of every API shape: pydantic v2 models that validate themselves.

Shapes use the reference's snake_case field names. ``to_request()`` renders a shape the way
the SageMaker API spells it (PascalCase keys, ``None`` left out), which is how requests and
descriptions are stored.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

# Fields whose PascalCase form is not the plain capitalisation of the snake_case name.
_SPECIAL = {"s3": "S3", "uri": "Uri", "kms": "Kms", "id": "Id", "ids": "Ids", "gb": "GB"}


def pascal_case(name: str) -> str:
    """``s3_output_path`` → ``S3OutputPath``; ``volume_size_in_gb`` → ``VolumeSizeInGB``."""
    return "".join(_SPECIAL.get(part, part[:1].upper() + part[1:]) for part in name.split("_"))


def to_request(value: Any) -> Any:
    """Render shapes (recursively) as API dicts with PascalCase keys and no ``None`` values."""
    if isinstance(value, BaseModel):
        return {
            pascal_case(name): to_request(item)
            for name, item in value
            if item is not None and not name.startswith("_")
        }
    if isinstance(value, list | tuple):
        return [to_request(item) for item in value]
    if isinstance(value, dict):
        return {key: to_request(item) for key, item in value.items()}
    return value


class Shape(BaseModel):
    """A configuration shape: unknown fields are refused and assignments are validated."""

    model_config = ConfigDict(
        extra="forbid", validate_assignment=True, populate_by_name=True, use_enum_values=False
    )

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
