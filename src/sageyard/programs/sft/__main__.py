"""Supervised fine-tuning: ``python -m sageyard.programs.sft`` inside a job.

1. **Request.** The options of ``PROGRAM.options[training_type]`` (``spec.py``) plus
   ``training_type`` (``lora``, the default, or ``full``), ``base_model`` and ``mlflow_*``;
   anything else fails the job before the model loads.
2. **Data.** ``train`` (and optional ``validation``) JSONL rows: ``{"prompt", "completion"}``
   or chat ``{"messages": [...]}`` whose last message is the assistant's. With a chat
   template, rows become TRL's conversational prompt/completion (the template is applied);
   without one, plain text. Either way the loss covers the completion only.
3. **Training.** TRL's ``SFTTrainer`` on the ``model`` channel's model: LoRA adapters
   (``lora_r``, ``lora_alpha``, ``lora_dropout``, ``target_modules``) or all parameters.
   It evaluates on ``validation`` every ``eval_steps`` and at the end, saves checkpoints to
   the checkpoint folder every ``save_steps`` and resumes from the latest one found there.
4. **Metrics.** ``#metrics step=.. epoch=.. train:loss=.. train:learning_rate=..
   train:tokens_per_second=..`` and ``validation:loss``; a final line with both losses.
5. **Several processes.** With several hosts (or GPUs) the job runs this program under
   torchrun on each and TRL's trainer is data-parallel over them all (``flow.Ranks``);
   rank 0 prints the metrics and saves the model.
6. **Model.** The model folder holds a model that loads with
   ``AutoModelForCausalLM.from_pretrained`` (LoRA: merged, with ``adapter/`` beside it),
   the tokenizer and ``sageyard-fine-tuning.json``.
"""

from __future__ import annotations

import logging
from typing import Any

from sageyard.programs._common import ProgramContext, configure_logging, run
from sageyard.programs._llm.data import plain_text
from sageyard.programs._llm.flow import fine_tune
from sageyard.programs.sft.spec import PROGRAM


def main(ctx: ProgramContext) -> None:
    fine_tune(ctx, PROGRAM, example, make_trainer)


def make_trainer(arguments: dict[str, Any], **parts: Any) -> Any:
    """TRL's ``SFTTrainer`` with the job's arguments (the loss on completions only)."""
    from trl import SFTConfig, SFTTrainer

    return SFTTrainer(args=SFTConfig(**arguments, completion_only_loss=True), **parts)


def example(row: dict[str, Any], chat: bool) -> dict[str, Any]:
    """A dataset row as TRL's prompt/completion: conversational with a chat template.

    Example:
        >>> example({"prompt": "2+2?", "completion": "4"}, chat=False)
        {'prompt': '2+2?', 'completion': '4'}
        >>> example({"prompt": "2+2?", "completion": "4"}, chat=True)["completion"]
        [{'role': 'assistant', 'content': '4'}]
    """
    if "messages" in row:
        messages = [{"role": m["role"], "content": m["content"]} for m in row["messages"]]
        prompt, answer = messages[:-1], messages[-1]["content"]
        if chat:
            return {"prompt": prompt, "completion": [{"role": "assistant", "content": answer}]}
        return {"prompt": plain_text(prompt) + "assistant: ", "completion": answer}
    if chat:
        return {
            "prompt": [{"role": "user", "content": row["prompt"]}],
            "completion": [{"role": "assistant", "content": row["completion"]}],
        }
    return {"prompt": row["prompt"], "completion": row["completion"]}


if __name__ == "__main__":
    configure_logging(logging.getLogger("sageyard.programs"))
    run(main)
