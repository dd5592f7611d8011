"""``JumpStartConfig``: name a catalog model to fine-tune with its default program.

Example:
    >>> from sageyard.core.jumpstart import JumpStartConfig
    >>> JumpStartConfig(model_id="HuggingFaceTB/SmolLM2-135M-Instruct").accept_eula
    False
"""

from __future__ import annotations

from sageyard.core.shapes import Shape

__all__ = ["JumpStartConfig"]


class JumpStartConfig(Shape):
    """A model of the catalog (``sageyard models list``) and how to train it.

    ``training_config_name`` picks the technique of its default fine-tuning program
    (``"sft"``, the default, or ``"dpo"``); ``model_version`` and ``hub_name`` are recorded.
    """

    model_id: str
    model_version: str | None = None
    hub_name: str | None = None
    accept_eula: bool = False
    training_config_name: str | None = None
    inference_config_name: str | None = None
