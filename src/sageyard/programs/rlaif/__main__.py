"""Reinforcement learning from AI feedback: ``python -m sageyard.programs.rlaif`` in a job.

1. **Request.** The options of ``PROGRAM.options[training_type]`` (``spec.py``: GRPO's
   and the judge's among them) plus ``training_type``, ``base_model`` and ``mlflow_*``;
   anything else fails the job before the model loads.
2. **Reward prompt.** The preset named by ``judge_prompt_template``, or the
   ``reward_prompt`` channel's one template file (Jinja, with ``prompt`` and
   ``response``).
3. **Judge.** The OpenAI-compatible endpoint ``judge_endpoint`` serving
   ``judge_served_model``, or, without one, the ``judge`` channel's local model, run in
   this process (the log says that a stand-in judge scores the run). Each completion's
   reward is the judge's score over 10; a failed call or an answer without a score gives
   0 and counts in ``train:reward_errors``.
4. **Data, training, metrics, model.** As RLVR's (``programs/rlvr``): prompt-only rows,
   TRL's ``GRPOTrainer``, ``train:reward`` & co., a loadable model.
"""

from __future__ import annotations

import logging

from sageyard.programs._common import AlgorithmError, ProgramContext, configure_logging, run
from sageyard.programs._judges.judges import Judge, JudgeScorer, pick_judge
from sageyard.programs._judges.prompts import PRESET_PROMPTS
from sageyard.programs._llm.request import Request, parse_request
from sageyard.programs._rl.grpo import train_grpo
from sageyard.programs.rlaif.spec import PROGRAM

log = logging.getLogger("sageyard.programs.rlaif")

#: The channel holding a reward prompt template file (the judge's: ``_judges.JUDGE_CHANNEL``).
PROMPT_CHANNEL = "reward_prompt"


def main(ctx: ProgramContext) -> None:
    request = parse_request(ctx.hyperparameters, PROGRAM)
    scorer = JudgeScorer(judge(ctx, request), reward_prompt(ctx, request))
    train_grpo(ctx, PROGRAM, scorer)


def reward_prompt(ctx: ProgramContext, request: Request) -> str:
    """The reward prompt's template: the preset's, or the channel's one file.

    Raises:
        AlgorithmError: Neither or both are given, or the channel holds no single file.
    """
    preset = request.options["judge_prompt_template"]
    if PROMPT_CHANNEL not in ctx.input_data_config:
        if not preset:
            raise AlgorithmError(
                "ClientError: RLAIF needs a reward prompt: the hyperparameter "
                f"judge_prompt_template ({', '.join(PRESET_PROMPTS)}) or a 'reward_prompt' "
                "channel holding a Jinja template file."
            )
        log.info("The judge scores with the built-in reward prompt %r", preset)
        return PRESET_PROMPTS[preset]
    if preset:
        raise AlgorithmError(
            f"ClientError: Both a 'reward_prompt' channel and judge_prompt_template={preset!r} "
            "are given; give one reward prompt."
        )
    folder = ctx.input_data_dir / PROMPT_CHANNEL
    files = sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []
    if len(files) != 1:
        found = ", ".join(str(file.relative_to(folder)) for file in files) or "none"
        raise AlgorithmError(
            f"ClientError: The 'reward_prompt' channel must hold one template file; it holds "
            f"{found}."
        )
    log.info("The judge scores with the reward prompt %s", files[0].name)
    return files[0].read_text(encoding="utf-8")


def judge(ctx: ProgramContext, request: Request) -> Judge:
    """The endpoint judge, or the ``judge`` channel's local model as a stand-in.

    Raises:
        AlgorithmError: Neither is given.
    """
    return pick_judge(ctx, request.options, "RLAIF")[0]


if __name__ == "__main__":
    configure_logging(logging.getLogger("sageyard.programs"))
    run(main)
