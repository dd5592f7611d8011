"""What RLVR and RLAIF declare alike: options, checks, prompt-only rows and metrics.

Light on purpose: the facades import it (through the programs' ``spec.py``), so it imports
neither torch nor TRL.

Example:
    >>> options = rl_options({"lora": 5e-5, "full": 1e-6})
    >>> options["lora"]["num_generations"].default, "max_seq_length" in options["lora"]
    (4, False)
    >>> DATASET.check_row({"prompt": "2+2?", "reward_model": {"ground_truth": "4"}})
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sageyard.core.parameter import ContinuousParameter, IntegerParameter, ParameterRange
from sageyard.models.datasets import DatasetFormat
from sageyard.programs._llm.data import check_prompt_row
from sageyard.programs._llm.metrics import metric_regexes
from sageyard.programs._llm.options import options_per_training_type
from sageyard.programs._llm.request import check_job_hyperparameters, parse_request
from sageyard.programs._spec import OptionSpec, ProgramSpec

__all__ = [
    "DATASET",
    "RL_METRICS",
    "RL_OPTIONS",
    "RL_TUNABLE_RANGES",
    "check_batch",
    "check_rl_hyperparameters",
    "extra_metric",
    "rl_metric_regexes",
    "rl_options",
]

RL_OPTIONS: dict[str, OptionSpec] = {
    "num_generations": OptionSpec(
        type="integer",
        default=4,
        min=2,
        max=256,
        description="Completions sampled per prompt; each is rewarded against its group.",
    ),
    "max_prompt_length": OptionSpec(
        type="integer",
        default=512,
        min=1,
        max=131_072,
        description="Longest prompt in tokens; longer prompts are left out of training.",
    ),
    "max_response_length": OptionSpec(
        type="integer",
        default=512,
        min=1,
        max=131_072,
        description="Most tokens generated per completion.",
    ),
    "temperature": OptionSpec(
        type="float",
        default=1.0,
        min=0.01,
        max=10.0,
        description="Sampling temperature of the completions.",
    ),
    "beta": OptionSpec(
        type="float",
        default=0.04,
        min=0.0,
        max=10.0,
        description="Weight of the KL penalty to the starting model (0: none, no train:kl).",
    ),
}

# TRL's GRPO log keys → metric names (``train:<name>``; ``eval_<key>`` → ``validation:``).
RL_METRICS = {
    "reward": "reward",
    "reward_std": "reward_std",
    "kl": "kl",
    "completions/mean_length": "completion_length",
    "reward_errors": "reward_errors",
}


def extra_metric(name: str) -> str:
    """The metric name of a reward function's own metric ``name`` (``train:<it>``).

    Example:
        >>> extra_metric("pass rate")
        'reward/pass_rate'
    """
    return "reward/" + re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


RL_TUNABLE_RANGES: dict[str, ParameterRange] = {
    "learning_rate": ContinuousParameter(1e-7, 1e-4, "Logarithmic"),
    "beta": ContinuousParameter(0.0, 0.2, "Linear"),
    "temperature": ContinuousParameter(0.5, 1.2, "Linear"),
    "epochs": IntegerParameter(1, 5, "Linear"),
}

# `prompt` text, verl's chat `prompt` with `reward_model`, or chat `messages`.
DATASET = DatasetFormat(
    example='{"prompt": "...", "reference_answer": "..."}',
    check_row=lambda row: check_prompt_row(row, "reinforcement fine-tuning rows need"),
)


def rl_options(
    learning_rates: Mapping[str, float], own: Mapping[str, OptionSpec] | None = None
) -> dict[str, dict[str, OptionSpec]]:
    """A reinforcement technique's options per training type: the common ones less
    ``max_seq_length`` (prompt and response lengths bound it), :data:`RL_OPTIONS`, and
    ``own``."""
    options = options_per_training_type(learning_rates, own={**RL_OPTIONS, **(own or {})})
    for chosen in options.values():
        del chosen["max_seq_length"]
    return options


def rl_metric_regexes() -> dict[str, str]:
    """The metrics of every reinforcement job (``train:reward``, ``validation:reward``, ...)."""
    return metric_regexes(
        *(f"train:{name}" for name in RL_METRICS.values()),
        *(f"validation:{name}" for name in ("reward", "reward_std", "completion_length")),
    )


def check_rl_hyperparameters(program: ProgramSpec, raw: Mapping[str, str]) -> None:
    """Before a job is created: the options' own checks, then :func:`check_batch`.

    Raises:
        ConfigurationError: (a ValueError) What the program would fail the job with.
    """
    check_job_hyperparameters(program, raw)
    check_batch(parse_request(raw, program).options)


def check_batch(options: Mapping[str, Any]) -> None:
    """GRPO rewards each prompt's completions as a group: a step's completions
    (``per_device_train_batch_size * gradient_accumulation_steps``) must hold whole groups.

    Raises:
        ConfigurationError: The batch does not divide into groups of ``num_generations``.
    """
    from sageyard.core.exceptions import ConfigurationError

    batch = int(options["per_device_train_batch_size"])
    steps = int(options["gradient_accumulation_steps"])
    group = int(options["num_generations"])
    if (batch * steps) % group:
        raise ConfigurationError(
            f"per_device_train_batch_size ({batch}) * gradient_accumulation_steps ({steps}) = "
            f"{batch * steps} completions per step, which is not a multiple of num_generations "
            f"({group}): GRPO rewards each prompt's {group} completions as a group. Make the "
            f"product a multiple of {group}, e.g. per_device_train_batch_size={group}."
        )
