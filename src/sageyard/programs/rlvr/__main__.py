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

from sageyard.programs._common import ProgramContext, configure_logging, run
from sageyard.programs._llm.request import parse_request
from sageyard.programs._rewards.files import reward_file
from sageyard.programs._rewards.pool import RewardPool
from sageyard.programs._rl.grpo import train_grpo
from sageyard.programs.rlvr.spec import PROGRAM

log = logging.getLogger("sageyard.programs.rlvr")

#: The channel holding the reward function's file.


def main(ctx: ProgramContext) -> None:
    request = parse_request(ctx.hyperparameters, PROGRAM)
    handler = reward_file(ctx, request.options["preset_reward_function"], "RLVR")
    options = request.options
    with RewardPool(
        handler,
        workers=options["reward_workers"],
        timeout=options["reward_timeout"],
        memory_mb=options["reward_memory_mb"],
    ) as pool:
        train_grpo(ctx, PROGRAM, pool)


if __name__ == "__main__":
    configure_logging(logging.getLogger("sageyard.programs"))
    run(main)
