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

from sageyard.programs._registry import (
    PROGRAMS,
    find_program,
    fine_tuning_program,
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
    "fine_tuning_program",
    "image_repository",
    "program",
    "program_for_image",
    "program_names",
]
