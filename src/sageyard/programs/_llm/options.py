"""The options every fine-tuning technique takes, and LoRA's, as :class:`OptionSpec`.

A technique's ``spec.py`` builds its options per training type with
:func:`options_per_training_type`: the common options with its default learning rate
(full fine-tuning and preference optimisation want smaller ones than LoRA SFT), LoRA's
for ``lora``, and its own (DPO's ``beta``) for both.

Example:
    >>> options = options_per_training_type({"lora": 2e-4, "full": 2e-5})
    >>> sorted(options), options["full"]["learning_rate"].default, "lora_r" in options["full"]
    (['full', 'lora'], 2e-05, False)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from sageyard.core.enums import TrainingType
from sageyard.programs._spec import OptionSpec

__all__ = ["COMMON_OPTIONS", "LORA_OPTIONS", "TRAINING_TYPES", "options_per_training_type"]

TRAINING_TYPES = tuple(training_type.value for training_type in TrainingType)

COMMON_OPTIONS: dict[str, OptionSpec] = {
    "epochs": OptionSpec(
        type="integer", default=3, min=1, max=50, description="Passes over the training dataset."
    ),
    "max_steps": OptionSpec(
        type="integer",
        default=-1,
        min=-1,
        max=10_000_000,
        description="Stop after this many optimizer steps (-1: train for `epochs`).",
    ),
    "learning_rate": OptionSpec(
        type="float", default=2e-4, min=1e-9, max=1.0, description="Peak learning rate."
    ),
    "per_device_train_batch_size": OptionSpec(
        type="integer",
        default=4,
        min=1,
        max=1024,
        description="Training examples per device and step.",
    ),
    "per_device_eval_batch_size": OptionSpec(
        type="integer",
        default=8,
        min=1,
        max=1024,
        description="Evaluation examples per device and step.",
    ),
    "gradient_accumulation_steps": OptionSpec(
        type="integer",
        default=1,
        min=1,
        max=1024,
        description="Batches whose gradients add up to one optimizer step.",
    ),
    "warmup_ratio": OptionSpec(
        type="float",
        default=0.0,
        min=0.0,
        max=1.0,
        description="Fraction of the steps spent warming the learning rate up.",
    ),
    "weight_decay": OptionSpec(
        type="float", default=0.0, min=0.0, max=1.0, description="Decoupled weight decay."
    ),
    "optimizer": OptionSpec(
        type="string",
        default="adamw",
        enum=("adamw", "adamw_torch", "adafactor", "sgd", "adagrad", "rmsprop"),
        description="Optimizer (adamw is torch's AdamW).",
    ),
    "max_grad_norm": OptionSpec(
        type="float",
        default=1.0,
        min=0.0,
        max=1000.0,
        description="Gradient clipping norm (0: no clipping).",
    ),
    "lr_scheduler_type": OptionSpec(
        type="string",
        default="linear",
        enum=(
            "linear",
            "cosine",
            "cosine_with_restarts",
            "polynomial",
            "constant",
            "constant_with_warmup",
            "inverse_sqrt",
        ),
        description="Learning-rate schedule.",
    ),
    "logging_steps": OptionSpec(
        type="integer",
        default=10,
        min=1,
        max=1_000_000,
        description="Log training metrics every N optimizer steps.",
    ),
    "save_steps": OptionSpec(
        type="integer",
        default=500,
        min=1,
        max=10_000_000,
        description="Save a checkpoint every N optimizer steps.",
    ),
    "eval_steps": OptionSpec(
        type="integer",
        default=100,
        min=1,
        max=10_000_000,
        description="Evaluate on the validation dataset every N optimizer steps.",
    ),
    "max_seq_length": OptionSpec(
        type="integer",
        default=1024,
        min=16,
        max=131_072,
        description="Longest tokenized example; longer ones are truncated.",
    ),
    "seed": OptionSpec(
        type="integer", default=42, min=0, max=2**31 - 1, description="Random seed."
    ),
}

LORA_OPTIONS: dict[str, OptionSpec] = {
    "lora_r": OptionSpec(
        type="integer", default=8, min=1, max=512, description="LoRA rank (higher: more capacity)."
    ),
    "lora_alpha": OptionSpec(
        type="integer",
        default=16,
        min=1,
        max=2048,
        description="LoRA scaling (typically 2 * lora_r).",
    ),
    "lora_dropout": OptionSpec(
        type="float", default=0.05, min=0.0, max=1.0, description="Dropout on the LoRA path."
    ),
    "target_modules": OptionSpec(
        type="list",
        default=("q_proj", "v_proj"),
        description="Module names that get adapters, or ['all-linear'].",
    ),
}


def options_per_training_type(
    learning_rates: Mapping[str, float], own: Mapping[str, OptionSpec] | None = None
) -> dict[str, dict[str, OptionSpec]]:
    """A technique's options for each training type: the common ones with its default
    learning rate, LoRA's for ``lora``, then ``own`` (the technique's, for both).

    Raises:
        ValueError: ``learning_rates`` does not give one rate per training type.
    """
    if set(learning_rates) != set(TRAINING_TYPES):
        raise ValueError(
            f"learning_rates needs one default per training type ({', '.join(TRAINING_TYPES)}), "
            f"got {sorted(learning_rates)}."
        )
    options: dict[str, dict[str, OptionSpec]] = {}
    for training_type in TRAINING_TYPES:
        chosen = dict(COMMON_OPTIONS)
        chosen["learning_rate"] = dataclasses.replace(
            COMMON_OPTIONS["learning_rate"], default=learning_rates[training_type]
        )
        if training_type == TrainingType.LORA.value:
            chosen.update(LORA_OPTIONS)
        chosen.update(own or {})
        options[training_type] = chosen
    return options
