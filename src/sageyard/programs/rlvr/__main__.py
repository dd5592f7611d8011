"""Reinforcement learning from verifiable rewards: ``python -m sageyard.programs.rlvr`` in a job.

1. **Request.** The options of ``PROGRAM.options[training_type]`` (``spec.py``: GRPO's
   and the reward runtime's among them) plus ``training_type``, ``base_model`` and
   ``mlflow_*``; anything else fails the job before the model loads.
2. **Reward function.** The ``reward`` channel's Python file (its ``lambda_handler``, in
   the per-sample or the batch contract), or the preset named by
   ``preset_reward_function``. It runs in ``reward_workers`` sandboxed processes (no
   network, ``reward_memory_mb`` of address space, a scratch folder each); a call that
   raises, runs past ``reward_timeout`` or returns a malformed value gives its samples 0
   and counts in ``train:reward_errors``.
3. **Data.** ``train`` (and optional ``validation``) JSONL prompt rows: ``prompt`` (text
   or chat), verl's ``prompt`` + ``reward_model.ground_truth``, or chat ``messages``;
   ``reference_answer`` and every other field reach the reward function.
4. **Training.** TRL's ``GRPOTrainer``: ``num_generations`` completions per prompt, each
   rewarded against its group, with a KL penalty ``beta`` to the starting model.
   Evaluation, checkpoints and resuming work as for SFT.
5. **Metrics.** ``train:reward``, ``train:reward_std``, ``train:kl``,
   ``train:completion_length``, ``train:reward_errors``, ``train:reward/<name>`` for
   each extra metric of the reward function, and ``validation:reward``.
6. **Model.** As SFT's: a loadable (merged) model, ``adapter/`` for LoRA, the tokenizer
   and ``sageyard-fine-tuning.json``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sageyard.programs._common import AlgorithmError, ProgramContext, configure_logging, run
from sageyard.programs._llm.request import Request, parse_request
from sageyard.programs._rewards.pool import RewardPool
from sageyard.programs._rewards.presets import preset_path
from sageyard.programs._rl.grpo import train_grpo
from sageyard.programs.rlvr.spec import PROGRAM

log = logging.getLogger("sageyard.programs.rlvr")

#: The channel holding the reward function's file.
REWARD_CHANNEL = "reward"


def main(ctx: ProgramContext) -> None:
    request = parse_request(ctx.hyperparameters, PROGRAM)
    handler = reward_file(ctx, request)
    options = request.options
    with RewardPool(
        handler,
        workers=options["reward_workers"],
        timeout=options["reward_timeout"],
        memory_mb=options["reward_memory_mb"],
    ) as pool:
        train_grpo(ctx, PROGRAM, pool)


def reward_file(ctx: ProgramContext, request: Request) -> Path:
    """The reward function's file: the ``reward`` channel's one ``.py`` file, or the preset.

    Raises:
        AlgorithmError: Neither or both are given, or the channel holds no single file.
    """
    preset = request.options["preset_reward_function"]
    if REWARD_CHANNEL not in ctx.input_data_config:
        if not preset:
            raise AlgorithmError(
                "ClientError: RLVR needs a reward function: a 'reward' channel holding a "
                "Python file that defines lambda_handler(event, context), or the "
                "hyperparameter preset_reward_function (gsm8k, prime_code, prime_math)."
            )
        log.info("Rewards come from the preset reward function %r", preset)
        return preset_path(preset)
    if preset:
        raise AlgorithmError(
            f"ClientError: Both a 'reward' channel and preset_reward_function={preset!r} are "
            "given; give one reward function."
        )
    folder = ctx.input_data_dir / REWARD_CHANNEL
    files = sorted(folder.rglob("*.py")) if folder.is_dir() else []
    if len(files) != 1:
        found = ", ".join(str(file.relative_to(folder)) for file in files) or "none"
        raise AlgorithmError(
            f"ClientError: The 'reward' channel must hold one Python file defining "
            f"lambda_handler(event, context); it holds {found}."
        )
    log.info("Rewards come from %s", files[0].name)
    return files[0]


if __name__ == "__main__":
    configure_logging(logging.getLogger("sageyard.programs"))
    run(main)
