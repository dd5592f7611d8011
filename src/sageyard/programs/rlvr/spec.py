"""What the RLVR program declares: options, prompt-only rows, metrics, tunable ranges, facade.

Light on purpose: the facade imports this module, so it imports neither torch nor TRL.
The options are the common fine-tuning ones (LoRA's for ``training_type="lora"``), GRPO's
(:data:`~sageyard.programs._rl.spec.RL_OPTIONS`) and the reward runtime's: the preset
reward function, and each call's time limit, the workers and their memory.

Example:
    >>> from sageyard.programs.rlvr.spec import PROGRAM
    >>> PROGRAM.option_specs("lora")["preset_reward_function"]["enum"]
    ['', 'gsm8k', 'prime_code', 'prime_math']
    >>> "train:reward_errors" in [d.name for d in PROGRAM.metric_definitions]
    True
"""

from __future__ import annotations

from sageyard.programs._rewards.presets import PRESETS
from sageyard.programs._rl.spec import (
    DATASET,
    RL_TUNABLE_RANGES,
    check_rl_hyperparameters,
    rl_metric_regexes,
    rl_options,
)
from sageyard.programs._spec import OptionSpec, ProgramSpec

__all__ = ["PROGRAM"]

REWARD_OPTIONS = {
    "preset_reward_function": OptionSpec(
        type="string",
        default="",
        enum=("", *PRESETS),
        description="A reward function of sageyard's instead of your own: gsm8k (final "
        "number), prime_math (math-verify), prime_code (runs the row's tests).",
    ),
    "reward_timeout": OptionSpec(
        type="float",
        default=10.0,
        min=0.1,
        max=3600.0,
        description="Seconds a reward call may take; a slower one gives its samples 0.",
    ),
    "reward_workers": OptionSpec(
        type="integer",
        default=2,
        min=1,
        max=256,
        description="Sandboxed processes running the reward function.",
    ),
    "reward_memory_mb": OptionSpec(
        type="integer",
        default=1024,
        min=64,
        max=1_048_576,
        description="Address space of each reward worker, in MiB.",
    ),
}

PROGRAM = ProgramSpec(
    name="rlvr",
    module="sageyard.programs.rlvr",
    display_name="RLVR",
    data_parallel=True,  # torchrun on every host: TRL's GRPO trainer is data-parallel
    facade="sageyard.train.rlvr_trainer:RLVRTrainer",
    options=rl_options({"lora": 5e-5, "full": 1e-6}, own=REWARD_OPTIONS),
    hyperparameter_check=check_rl_hyperparameters,
    dataset=DATASET,
    metrics=rl_metric_regexes(),
    tunable_ranges=RL_TUNABLE_RANGES,
)
