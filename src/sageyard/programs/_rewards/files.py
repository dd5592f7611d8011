"""Which reward function a job runs: the ``reward`` channel's file, or a preset.

Shared by the programs that reward with a function (RLVR's training, the evaluate
program's custom scorer).
"""

from __future__ import annotations

import logging
from pathlib import Path

from sageyard.programs._common import AlgorithmError, ProgramContext
from sageyard.programs._rewards.presets import PRESETS, preset_path

__all__ = ["REWARD_CHANNEL", "reward_file"]

log = logging.getLogger(__name__)

#: The channel holding the reward function's file.
REWARD_CHANNEL = "reward"


def reward_file(ctx: ProgramContext, preset: str, who: str) -> Path:
    """The reward function's file: the ``reward`` channel's one ``.py`` file, or the preset
    ``preset`` (``who`` names the program in messages).

    Raises:
        AlgorithmError: Neither or both are given, or the channel holds no single file.
    """
    if REWARD_CHANNEL not in ctx.input_data_config:
        if not preset:
            raise AlgorithmError(
                f"ClientError: {who} needs a reward function: a 'reward' channel holding a "
                "Python file that defines lambda_handler(event, context), or the "
                f"hyperparameter preset_reward_function ({', '.join(PRESETS)})."
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
