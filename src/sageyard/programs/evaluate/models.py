"""Which generator runs a model folder: scripted, vision-language or text.

Example:
    >>> generator = open_generator(Path("/opt/ml/input/data/model"))  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from sageyard.programs.evaluate.generation import (
    SCRIPTED_MODEL_TYPE,
    Generator,
    ScriptedGenerator,
    TransformersGenerator,
    read_config,
)

__all__ = ["open_generator"]


def open_generator(folder: Path) -> Generator:
    """The generator of the model folder ``folder``: the test double when its
    ``config.json`` says ``sageyard-scripted``, a vision-language model when it has a
    ``vision_config``, else a causal language model."""
    config = read_config(folder)
    if config.get("model_type") == SCRIPTED_MODEL_TYPE:
        return ScriptedGenerator(folder)
    if "vision_config" in config:
        from sageyard.programs.evaluate.vision import VisionGenerator

        return VisionGenerator(folder)
    return TransformersGenerator(folder)
