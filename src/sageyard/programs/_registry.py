"""The one list of programs: each name with its ``ProgramSpec`` as ``"module:NAME"``.

Resolved lazily, the way celery's ``concurrency.ALIASES`` names its pools: a spec module is
imported the first time its program is asked for, and an unknown name is an error, never a
silent fallback. A new program is a folder ``sageyard/programs/<name>/`` (``spec.py`` with
``PROGRAM = ProgramSpec(...)`` and ``__main__.py``) plus one line in :data:`PROGRAMS`.

Example:
    >>> program("xgboost").module
    'sageyard.programs.xgboost'
    >>> image = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
    >>> program_for_image(image).name
    'xgboost'
    >>> find_program("no-such-program") is None
    True
"""

from __future__ import annotations

import importlib

from sageyard.programs._spec import ProgramSpec

__all__ = [
    "PROGRAMS",
    "find_program",
    "fine_tuning_program",
    "image_repository",
    "program",
    "program_for_image",
    "program_names",
]

#: Every program by the name users pass (``ModelTrainer(algorithm_name=...)``).
PROGRAMS: dict[str, str] = {
    "xgboost": "sageyard.programs.xgboost.spec:PROGRAM",
    "kmeans": "sageyard.programs.kmeans.spec:PROGRAM",
    "linear-learner": "sageyard.programs.linear_learner.spec:PROGRAM",
    "sft": "sageyard.programs.sft.spec:PROGRAM",
    "dpo": "sageyard.programs.dpo.spec:PROGRAM",
    "rlvr": "sageyard.programs.rlvr.spec:PROGRAM",
    "rlaif": "sageyard.programs.rlaif.spec:PROGRAM",
    "evaluate": "sageyard.programs.evaluate.spec:PROGRAM",
}

_resolved: dict[str, ProgramSpec] = {}


def _resolve(name: str) -> ProgramSpec:
    spec = _resolved.get(name)
    if spec is None:
        module, _, attribute = PROGRAMS[name].partition(":")
        spec = getattr(importlib.import_module(module), attribute)
        if not isinstance(spec, ProgramSpec) or spec.name != name:
            raise TypeError(
                f"PROGRAMS[{name!r}] = {PROGRAMS[name]!r} must name the ProgramSpec of "
                f"{name!r}, but it is {spec!r}."
            )
        _resolved[name] = spec
    return spec


def find_program(name: str) -> ProgramSpec | None:
    """The spec of the program called ``name`` (case-insensitive), or None."""
    key = name.lower()
    return _resolve(key) if key in PROGRAMS else None


def program(name: str) -> ProgramSpec:
    """The spec of the program called ``name`` (case-insensitive).

    Raises:
        ConfigurationError: (a ValueError) No program of that name; the message lists the
            known ones and how to run your own code instead.
    """
    found = find_program(name)
    if found is None:
        from sageyard.core.exceptions import ConfigurationError

        raise ConfigurationError(
            f"algorithm_name {name!r} is not a built-in algorithm sageyard knows; known: "
            f"{', '.join(sorted(PROGRAMS))}. To run your own code, pass "
            "training_image=... and source_code=... instead."
        )
    return found


def fine_tuning_program(name: str, what: str = "technique") -> ProgramSpec:
    """The fine-tuning program called ``name`` (``what`` says where the name was given).

    Raises:
        ConfigurationError: (a ValueError) No fine-tuning program of that name; the
            message lists them.

    Example:
        >>> fine_tuning_program("dpo").display_name
        'DPO'
    """
    found = find_program(name)
    if found is None or not found.fine_tuning:
        from sageyard.core.exceptions import ConfigurationError

        choices = [repr(n) for n in program_names(fine_tuning=True)]
        either = (
            " or ".join([", ".join(choices[:-1]), choices[-1]]) if len(choices) > 1 else choices[0]
        )
        raise ConfigurationError(
            f"{what} must be a fine-tuning program, {either}, but got {name!r}."
        )
    return found


def program_names(*, fine_tuning: bool | None = None) -> list[str]:
    """The registered names in registry order; only fine-tuning ones (``True``) or only the
    others (``False``) when ``fine_tuning`` is given (that resolves every spec)."""
    if fine_tuning is None:
        return list(PROGRAMS)
    return [name for name in PROGRAMS if _resolve(name).fine_tuning is fine_tuning]


def image_repository(image: str) -> str:
    """The repository of an image URI.

    Example:
        >>> image_repository("123.dkr.ecr.us-west-2.amazonaws.com/sagemaker-xgboost:1.7-1")
        'sagemaker-xgboost'
    """
    last = image.rsplit("/", 1)[-1]
    return last.split("@", 1)[0].split(":", 1)[0]


def program_for_image(image: str) -> ProgramSpec | None:
    """The program that SageMaker's algorithm image ``image`` selects, or None (then the
    image is the user's own, and the job runs their code)."""
    repository = image_repository(image)
    for name in PROGRAMS:
        spec = _resolve(name)
        if repository in spec.image_repositories:
            return spec
    return None
