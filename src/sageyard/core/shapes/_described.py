"""A Describe* response that also answers the real SDK resource's attribute names."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sageyard.core.shapes._base import pascal_case


class Described(dict[str, Any]):
    """A response dict (PascalCase keys, as the reference returns it) whose keys are also
    attributes in the real SDK resource's snake_case: ``description["BestTrainingJob"]``
    and ``description.best_training_job`` are the same value (nested dicts answer too).

    ``fields`` are the resource's attribute names: one that the response leaves out is
    ``None`` (the real resource's unset value); any other missing name is an
    AttributeError.

    Example:
        >>> described = Described({"HyperParameterTuningJobStatus": "Completed",
        ...     "BestTrainingJob": {"TrainingJobName": "t-1"}}, fields=["failure_reason"])
        >>> described.hyper_parameter_tuning_job_status
        'Completed'
        >>> described.best_training_job.training_job_name, described.failure_reason
        ('t-1', None)
    """

    def __init__(self, data: Mapping[str, Any], fields: Iterable[str] = ()) -> None:
        super().__init__(data)
        self._fields = frozenset(fields)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        for key in (pascal_case(name), name):
            if key in self:
                return described(self[key])
        if name in self._fields:
            return None
        raise AttributeError(
            f"{name!r} is neither a key of this description ({', '.join(sorted(self))}) nor a "
            "field of the resource."
        )


def described(value: Any) -> Any:
    """``value`` with every dict in it (nested, in lists) answering its keys as attributes."""
    if isinstance(value, dict) and not isinstance(value, Described):
        return Described(value)
    if isinstance(value, list):
        return [described(item) for item in value]
    return value
