"""Programs that run inside training jobs: the built-in algorithms and fine-tuning (SFT, DPO).

Each built-in algorithm is a package ``sageyard.programs.<package>`` with

- ``spec.py`` — light metadata, safe to import anywhere: ``HYPERPARAMETERS`` (the
  container's hyperparameters), ``METRIC_DEFINITIONS`` (registered on every job of the
  algorithm, so tuning on e.g. ``validation:auc`` needs none from the user) and
  ``TUNABLE_RANGES`` (what ``HyperparameterTuner(autotune=True)`` tunes);
- ``__main__.py`` — the training program, run as ``python -m sageyard.programs.<package>``.

``ALGORITHMS`` maps an algorithm name (``ModelTrainer(algorithm_name=...)``) to its package;
``IMAGE_REPOSITORIES`` maps the repositories of SageMaker's algorithm images to names.
"""

from __future__ import annotations

import importlib
from types import ModuleType

ALGORITHMS: dict[str, str] = {
    "xgboost": "sageyard.programs.xgboost",
    "kmeans": "sageyard.programs.kmeans",
    "linear-learner": "sageyard.programs.linear_learner",
    "sft": "sageyard.programs.sft",
    "dpo": "sageyard.programs.dpo",
}

IMAGE_REPOSITORIES: dict[str, str] = {
    "sagemaker-xgboost": "xgboost",
    "xgboost": "xgboost",
    "kmeans": "kmeans",
    "linear-learner": "linear-learner",
}


def image_repository(image: str) -> str:
    """``123.dkr.ecr.us-west-2.amazonaws.com/sagemaker-xgboost:1.7-1`` → ``sagemaker-xgboost``."""
    last = image.rsplit("/", 1)[-1]
    return last.split("@", 1)[0].split(":", 1)[0]


def builtin_algorithm_for_image(image: str) -> str | None:
    return IMAGE_REPOSITORIES.get(image_repository(image))


def algorithm_spec(name: str) -> ModuleType | None:
    """The ``spec`` module of a built-in algorithm, or None while it is not shipped."""
    package = ALGORITHMS.get(name)
    if package is None:
        return None
    try:
        return importlib.import_module(f"{package}.spec")
    except ModuleNotFoundError as error:
        if error.name and error.name.startswith(package):
            return None
        raise
