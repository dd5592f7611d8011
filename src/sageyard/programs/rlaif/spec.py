"""What the RLAIF program declares: options, prompt-only rows, metrics, tunable ranges,
the reward models it accepts, and the facade.

Light on purpose: the facade imports this module, so it imports neither torch nor TRL.
The options are the common fine-tuning ones, GRPO's
(:data:`~sageyard.programs._rl.spec.RL_OPTIONS`) and the judge's: the reward prompt
preset, the endpoint (an OpenAI-compatible base URL and served model) or none (the
``judge`` channel's local model stands in), and the judge's answer length, time limit and
concurrency.

Example:
    >>> from sageyard.programs.rlaif.spec import PROGRAM
    >>> PROGRAM.option_specs("lora")["judge_prompt_template"]["default"]
    ''
"""

from __future__ import annotations

from sageyard.programs._judges.prompts import PRESET_PROMPTS
from sageyard.programs._rl.spec import (
    DATASET,
    RL_TUNABLE_RANGES,
    check_rl_hyperparameters,
    rl_metric_regexes,
    rl_options,
)
from sageyard.programs._spec import OptionSpec, ProgramSpec

__all__ = ["PROGRAM", "REWARD_MODELS"]

#: The reference's reward models (Bedrock ids) and the regions each is offered in.
REWARD_MODELS = {
    "openai.gpt-oss-120b-1:0": ("us-west-2", "us-east-1", "ap-northeast-1", "eu-west-1"),
    "openai.gpt-oss-20b-1:0": ("us-west-2", "us-east-1", "ap-northeast-1", "eu-west-1"),
    "qwen.qwen3-32b-v1:0": ("us-west-2", "us-east-1", "ap-northeast-1", "eu-west-1"),
    "qwen.qwen3-coder-30b-a3b-v1:0": ("us-west-2", "us-east-1", "ap-northeast-1", "eu-west-1"),
    "qwen.qwen3-coder-480b-a35b-v1:0": ("us-west-2", "ap-northeast-1"),
    "qwen.qwen3-235b-a22b-2507-v1:0": ("us-west-2", "ap-northeast-1"),
}

JUDGE_OPTIONS = {
    "judge_model_id": OptionSpec(
        type="string",
        default="",
        description="The reward model, as the real SDK records it: bedrock/<model id>.",
    ),
    "judge_prompt_template": OptionSpec(
        type="string",
        default="",
        enum=("", *PRESET_PROMPTS),
        description="A built-in reward prompt (or '' with a reward_prompt channel).",
    ),
    "judge_endpoint": OptionSpec(
        type="string",
        default="",
        description="Base URL of an OpenAI-compatible endpoint (http://host:8000/v1); '' "
        "for the judge channel's local model.",
    ),
    "judge_served_model": OptionSpec(
        type="string", default="", description="The model name the endpoint serves."
    ),
    "judge_max_tokens": OptionSpec(
        type="integer", default=16, min=1, max=4096, description="Tokens a judge may answer."
    ),
    "judge_timeout": OptionSpec(
        type="float",
        default=60.0,
        min=0.1,
        max=3600.0,
        description="Seconds an endpoint call may take; a slower one is a reward error.",
    ),
    "judge_concurrency": OptionSpec(
        type="integer", default=4, min=1, max=256, description="Endpoint calls at once."
    ),
}

PROGRAM = ProgramSpec(
    name="rlaif",
    module="sageyard.programs.rlaif",
    display_name="RLAIF",
    data_parallel=True,  # torchrun on every host: TRL's GRPO trainer is data-parallel
    facade="sageyard.train.rlaif_trainer:RLAIFTrainer",
    options=rl_options({"lora": 5e-5, "full": 1e-6}, own=JUDGE_OPTIONS),
    hyperparameter_check=check_rl_hyperparameters,
    dataset=DATASET,
    metrics=rl_metric_regexes(),
    tunable_ranges=RL_TUNABLE_RANGES,
)
