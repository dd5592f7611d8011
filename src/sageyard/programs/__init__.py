"""Programs that run inside training jobs: the built-in algorithms and fine-tuning programs.

``BUILTIN_ALGORITHMS`` maps an algorithm name (``ModelTrainer(algorithm_name=...)``, or the
repository of a SageMaker built-in algorithm image) to the module that implements it.
A name maps to ``None`` while its program is not shipped yet.
"""

from __future__ import annotations

BUILTIN_ALGORITHMS: dict[str, str | None] = {
    "xgboost": None,
    "kmeans": None,
    "linear-learner": None,
}

# Image repositories of SageMaker's built-in algorithm containers → algorithm name.
BUILTIN_IMAGE_REPOSITORIES: dict[str, str] = {
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
    return BUILTIN_IMAGE_REPOSITORIES.get(image_repository(image))
