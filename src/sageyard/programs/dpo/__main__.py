"""Direct preference optimisation: ``python -m sageyard.programs.dpo`` inside a job.

1. **Request.** The options of ``PROGRAM.options[training_type]`` (``spec.py``; ``beta``
   among them) plus ``training_type`` (``lora``, the default, or ``full``), ``base_model``
   and ``mlflow_*``; anything else fails the job before the model loads.
2. **Data.** ``train`` (and optional ``validation``) JSONL rows ``{"prompt", "chosen",
   "rejected"}``. With a chat template, rows become TRL's conversational preference rows
   (the prompt a user message, the answers assistant messages); without one, plain text.
3. **Training.** TRL's ``DPOTrainer`` on the ``model`` channel's model. With LoRA the
   reference is the model with its adapter disabled; with full fine-tuning TRL loads a
   frozen copy. Evaluation, checkpoints and resuming work as for SFT.
4. **Metrics.** As SFT's, plus ``train:reward_margin``, ``train:reward_accuracy`` and their
   ``validation:`` counterparts (TRL's ``rewards/margins`` and ``rewards/accuracies``).
5. **Several processes.** As SFT's: data-parallel under torchrun over every host's
   processes, rank 0 speaking for the job.
6. **Model.** As SFT's: a loadable (merged) model, ``adapter/`` for LoRA, the tokenizer and
   ``sageyard-fine-tuning.json``.
"""

from __future__ import annotations

import logging
from typing import Any

from sageyard.programs._common import ProgramContext, configure_logging, run
from sageyard.programs._llm.flow import fine_tune
from sageyard.programs.dpo.spec import PROGRAM

# The options DPOConfig takes under their own names.
CONFIG_OPTIONS = ("beta",)


def main(ctx: ProgramContext) -> None:
    fine_tune(ctx, PROGRAM, example, make_trainer, config_options=CONFIG_OPTIONS)


def make_trainer(arguments: dict[str, Any], **parts: Any) -> Any:
    """TRL's ``DPOTrainer`` with the job's arguments."""
    from trl import DPOConfig, DPOTrainer

    return DPOTrainer(args=DPOConfig(**arguments), **parts)


def example(row: dict[str, Any], chat: bool) -> dict[str, Any]:
    """A dataset row as TRL's preference row: conversational with a chat template.

    Example:
        >>> example({"prompt": "2+2?", "chosen": "4", "rejected": "5"}, chat=False)
        {'prompt': '2+2?', 'chosen': '4', 'rejected': '5'}
        >>> example({"prompt": "2+2?", "chosen": "4", "rejected": "5"}, chat=True)["chosen"]
        [{'role': 'assistant', 'content': '4'}]
    """
    if not chat:
        return {"prompt": row["prompt"], "chosen": row["chosen"], "rejected": row["rejected"]}
    return {
        "prompt": [{"role": "user", "content": row["prompt"]}],
        "chosen": [{"role": "assistant", "content": row["chosen"]}],
        "rejected": [{"role": "assistant", "content": row["rejected"]}],
    }


if __name__ == "__main__":
    configure_logging(logging.getLogger("sageyard.programs"))
    run(main)
