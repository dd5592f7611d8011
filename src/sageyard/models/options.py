"""The fine-tuning hyperparameters: one spec per technique and training type.

A spec is ``{name: {"type", "default", "min", "max", "enum", "description"}}`` — the shape
:class:`~sageyard.train.common.FineTuningOptions` takes. The trainers build their options
from :func:`option_specs`; the in-job programs parse their ``hyperparameters.json`` with
:func:`parse_options`, so both sides check the same rules.

Example:
    >>> specs = option_specs("sft", "lora")
    >>> specs["lora_r"]["default"]
    8
    >>> parse_options(specs, {"epochs": "2", "target_modules": '["q_proj"]'})["epochs"]
    2
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Mapping
from typing import Any

# The types a spec may name, and the Python values each accepts.
TYPES = ("integer", "float", "string", "list")

_COMMON: dict[str, dict[str, Any]] = {
    "epochs": {
        "type": "integer",
        "default": 3,
        "min": 1,
        "max": 50,
        "description": "Passes over the training dataset.",
    },
    "max_steps": {
        "type": "integer",
        "default": -1,
        "min": -1,
        "max": 10_000_000,
        "description": "Stop after this many optimizer steps (-1: train for `epochs`).",
    },
    "learning_rate": {
        "type": "float",
        "default": 2e-4,
        "min": 1e-9,
        "max": 1.0,
        "description": "Peak learning rate.",
    },
    "per_device_train_batch_size": {
        "type": "integer",
        "default": 4,
        "min": 1,
        "max": 1024,
        "description": "Training examples per device and step.",
    },
    "per_device_eval_batch_size": {
        "type": "integer",
        "default": 8,
        "min": 1,
        "max": 1024,
        "description": "Evaluation examples per device and step.",
    },
    "gradient_accumulation_steps": {
        "type": "integer",
        "default": 1,
        "min": 1,
        "max": 1024,
        "description": "Batches whose gradients add up to one optimizer step.",
    },
    "warmup_ratio": {
        "type": "float",
        "default": 0.0,
        "min": 0.0,
        "max": 1.0,
        "description": "Fraction of the steps spent warming the learning rate up.",
    },
    "weight_decay": {
        "type": "float",
        "default": 0.0,
        "min": 0.0,
        "max": 1.0,
        "description": "Decoupled weight decay.",
    },
    "optimizer": {
        "type": "string",
        "default": "adamw",
        "enum": ["adamw", "adamw_torch", "adafactor", "sgd", "adagrad", "rmsprop"],
        "description": "Optimizer (adamw is torch's AdamW).",
    },
    "max_grad_norm": {
        "type": "float",
        "default": 1.0,
        "min": 0.0,
        "max": 1000.0,
        "description": "Gradient clipping norm (0: no clipping).",
    },
    "lr_scheduler_type": {
        "type": "string",
        "default": "linear",
        "enum": [
            "linear",
            "cosine",
            "cosine_with_restarts",
            "polynomial",
            "constant",
            "constant_with_warmup",
            "inverse_sqrt",
        ],
        "description": "Learning-rate schedule.",
    },
    "logging_steps": {
        "type": "integer",
        "default": 10,
        "min": 1,
        "max": 1_000_000,
        "description": "Log training metrics every N optimizer steps.",
    },
    "save_steps": {
        "type": "integer",
        "default": 500,
        "min": 1,
        "max": 10_000_000,
        "description": "Save a checkpoint every N optimizer steps.",
    },
    "eval_steps": {
        "type": "integer",
        "default": 100,
        "min": 1,
        "max": 10_000_000,
        "description": "Evaluate on the validation dataset every N optimizer steps.",
    },
    "max_seq_length": {
        "type": "integer",
        "default": 1024,
        "min": 16,
        "max": 131_072,
        "description": "Longest tokenized example; longer ones are truncated.",
    },
    "seed": {
        "type": "integer",
        "default": 42,
        "min": 0,
        "max": 2**31 - 1,
        "description": "Random seed.",
    },
}

_LORA: dict[str, dict[str, Any]] = {
    "lora_r": {
        "type": "integer",
        "default": 8,
        "min": 1,
        "max": 512,
        "description": "LoRA rank (higher: more capacity).",
    },
    "lora_alpha": {
        "type": "integer",
        "default": 16,
        "min": 1,
        "max": 2048,
        "description": "LoRA scaling (typically 2 * lora_r).",
    },
    "lora_dropout": {
        "type": "float",
        "default": 0.05,
        "min": 0.0,
        "max": 1.0,
        "description": "Dropout on the LoRA path.",
    },
    "target_modules": {
        "type": "list",
        "default": ["q_proj", "v_proj"],
        "description": "Module names that get adapters, or ['all-linear'].",
    },
}

_DPO: dict[str, dict[str, Any]] = {
    "beta": {
        "type": "float",
        "default": 0.1,
        "min": 1e-4,
        "max": 10.0,
        "description": "DPO temperature: how far the policy may move from the reference.",
    },
}

# Defaults that differ by technique and training type (full fine-tuning and preference
# optimisation want smaller learning rates than LoRA SFT).
_LEARNING_RATES = {
    ("sft", "lora"): 2e-4,
    ("sft", "full"): 2e-5,
    ("dpo", "lora"): 5e-5,
    ("dpo", "full"): 1e-6,
}

TECHNIQUES = ("sft", "dpo")
TRAINING_TYPES = ("lora", "full")


def option_specs(technique: str, training_type: str) -> dict[str, dict[str, Any]]:
    """A fresh copy of the spec for ``technique`` ("sft", "dpo") and ``training_type``."""
    if technique not in TECHNIQUES:
        raise ValueError(
            f"No fine-tuning hyperparameters for technique {technique!r}; "
            f"known techniques: {', '.join(TECHNIQUES)}."
        )
    if training_type not in TRAINING_TYPES:
        raise ValueError(
            f"training_type must be one of {', '.join(TRAINING_TYPES)}, got {training_type!r}."
        )
    specs = copy.deepcopy(_COMMON)
    specs["learning_rate"]["default"] = _LEARNING_RATES[(technique, training_type)]
    if training_type == "lora":
        specs.update(copy.deepcopy(_LORA))
    if technique == "dpo":
        specs.update(copy.deepcopy(_DPO))
    return specs


def check_value(name: str, spec: Mapping[str, Any], value: Any) -> Any:
    """``value`` converted to the spec's type, or ValueError saying what is allowed."""
    kind = spec["type"]
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise ValueError(
                    f"{name} must be an integer{_range(spec)}, got {value!r} "
                    f"({type(value).__name__})."
                )
    elif kind == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(
                f"{name} must be a number{_range(spec)}, got {value!r} ({type(value).__name__})."
            )
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number{_range(spec)}, got {value!r}.")
    elif kind == "string":
        if not isinstance(value, str):
            raise ValueError(
                f"{name} must be a string{_choices(spec)}, got {value!r} ({type(value).__name__})."
            )
    elif kind == "list":
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if (
            not isinstance(value, list | tuple)
            or not value
            or not all(isinstance(item, str) and item for item in value)
        ):
            raise ValueError(
                f"{name} must be a non-empty list of strings (e.g. ['q_proj', 'v_proj']), "
                f"got {value!r}."
            )
        value = list(value)
    low, high = spec.get("min"), spec.get("max")
    if kind in ("integer", "float") and (
        (low is not None and value < low) or (high is not None and value > high)
    ):
        raise ValueError(f"{name}={value!r} is out of range: it must be{_range(spec)}.")
    if spec.get("enum") is not None and value not in spec["enum"]:
        raise ValueError(f"{name}={value!r} is not allowed: it must be{_choices(spec)}.")
    return value


def parse_options(specs: Mapping[str, Mapping[str, Any]], raw: Mapping[str, Any]) -> dict[str, Any]:
    """Every option, typed: the defaults overlaid with ``raw`` (string values as in a job).

    Names ``raw`` holds that no spec knows are ignored; the caller decides about them.
    """
    options = {name: copy.deepcopy(spec["default"]) for name, spec in specs.items()}
    for name, value in raw.items():
        spec = specs.get(name)
        if spec is None:
            continue
        options[name] = check_value(name, spec, _from_text(spec["type"], value))
    return options


def to_text(value: Any) -> str:
    """How an option travels in a job's hyperparameters (lists as JSON)."""
    if isinstance(value, list | tuple):
        return json.dumps(list(value))
    return str(value)


def _from_text(kind: str, value: Any) -> Any:
    if not isinstance(value, str) or kind == "string":
        return value
    text = value.strip()
    try:
        if kind == "integer":
            return int(text) if not any(c in text for c in ".eE") else float(text)
        if kind == "float":
            return float(text)
        if kind == "list" and text.startswith("["):
            return json.loads(text)
    except ValueError:
        return value
    return value


def _range(spec: Mapping[str, Any]) -> str:
    low, high = spec.get("min"), spec.get("max")
    if low is not None and high is not None:
        return f" between {low} and {high}"
    if low is not None:
        return f" of at least {low}"
    if high is not None:
        return f" of at most {high}"
    return ""


def _choices(spec: Mapping[str, Any]) -> str:
    enum = spec.get("enum")
    return f" one of {', '.join(map(repr, enum))}" if enum else ""
