"""Programs that run inside training jobs: the built-in algorithms and fine-tuning (SFT, DPO).

Each program is a package ``sageyard.programs.<package>`` with

- ``spec.py`` — ``PROGRAM``, its :class:`ProgramSpec`: light metadata, safe to import
  anywhere (metrics, tunable ranges, hyperparameters or options and their checks, dataset
  rows, the facade class of a fine-tuning technique);
- ``__main__.py`` — the program, run as ``python -m sageyard.programs.<package>``.

:data:`PROGRAMS` (in ``_registry.py``) lists them all by the name users pass
(``ModelTrainer(algorithm_name=...)``); :func:`program` and :func:`program_for_image`
find a spec by name or by SageMaker image.

Example:
    >>> from sageyard.programs import program
    >>> [d.name for d in program("kmeans").metric_definitions][:2]
    ['test:msd', 'test:ssd']
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sageyard.programs._registry import (
    PROGRAMS,
    find_program,
    image_repository,
    program,
    program_for_image,
    program_names,
)
from sageyard.programs._spec import OptionSpec, ProgramSpec

__all__ = [
    "PROGRAMS",
    "OptionSpec",
    "ProgramSpec",
    "find_program",
    "image_repository",
    "program",
    "program_for_image",
    "program_names",
]


# -- compat: remove once train/_request.py moves to the registry ----------------------------
# The names below serve the callers that still read programs the old way (train/_request.py,
# train/_tuning_request.py, jobs/request.py); they are not part of ``__all__``.


class _Modules(Mapping[str, str]):
    """``ALGORITHMS``: program name → the module a job runs (``ProgramSpec.module``)."""

    def __getitem__(self, name: str) -> str:
        if name not in PROGRAMS:
            raise KeyError(name)
        return program(name).module

    def __iter__(self) -> Iterator[str]:
        return iter(PROGRAMS)

    def __len__(self) -> int:
        return len(PROGRAMS)


# compat: remove once train/_request.py moves to the registry (use program(name).module)
ALGORITHMS: Mapping[str, str] = _Modules()


@dataclass(frozen=True)
class _ModuleLikeSpec:
    """What ``algorithm_spec`` used to return (a spec module), read off a ProgramSpec."""

    spec: ProgramSpec

    @property
    def METRIC_DEFINITIONS(self) -> list[Any]:
        return list(self.spec.metric_definitions)

    @property
    def TUNABLE_RANGES(self) -> dict[str, Any]:
        return dict(self.spec.tunable_ranges)

    def check_hyperparameters(self, values: dict[str, str]) -> None:
        self.spec.check_hyperparameters(values)


# compat: remove once train/_request.py moves to the registry (use find_program(name))
def algorithm_spec(name: str) -> _ModuleLikeSpec | None:
    """The old view of a program's spec (``METRIC_DEFINITIONS``, ``TUNABLE_RANGES``,
    ``check_hyperparameters``), or None for an unknown name."""
    found = find_program(name)
    return None if found is None else _ModuleLikeSpec(found)


# compat: remove once train/_request.py moves to the registry (use program_for_image(image))
def builtin_algorithm_for_image(image: str) -> str | None:
    """The name of the program SageMaker's image ``image`` selects, or None."""
    found = program_for_image(image)
    return None if found is None else found.name
