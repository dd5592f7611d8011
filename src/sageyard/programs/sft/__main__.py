"""Supervised fine-tuning: ``python -m sageyard.programs.sft`` inside a job.

1. **Request.** The hyperparameters of ``option_specs("sft", training_type)`` plus
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
5. **Model.** The model folder holds a model that loads with
   ``AutoModelForCausalLM.from_pretrained`` (LoRA: merged, with ``adapter/`` beside it),
   the tokenizer and ``sageyard-fine-tuning.json``.
"""

from __future__ import annotations

import logging
from typing import Any

from sageyard.programs import _llm
from sageyard.programs._common import ProgramContext, configure_logging, run

log = logging.getLogger("sageyard.programs.sft")

TECHNIQUE = "sft"


def main(ctx: ProgramContext) -> None:
    request = _llm.parse_request(ctx.hyperparameters, TECHNIQUE)
    train_rows = _llm.read_dataset(ctx, "train", TECHNIQUE, required=True)
    validation_rows = _llm.read_dataset(ctx, "validation", TECHNIQUE)
    assert train_rows is not None
    if ctx.hosts and ctx.current_host != ctx.hosts[0]:
        log.info("This job has %d hosts; fine-tuning runs on the first only.", len(ctx.hosts))
        return
    with _llm.model_folder(ctx) as folder, _llm.mlflow_run(request) as tracker:
        _llm.quiet_libraries()
        from datasets import Dataset
        from trl import SFTConfig, SFTTrainer

        chosen = _llm.precision(request.training_type)
        model, tokenizer = _llm.load_model(folder, request, chosen)
        chat = _llm.chat_template_of(tokenizer)
        metric_log = _llm.MetricLog(on_metrics=tracker.log_metrics if tracker else None)
        trainer = SFTTrainer(
            model=model,
            args=SFTConfig(
                **_llm.training_arguments(
                    request, ctx.checkpoint_dir, validation_rows is not None, chosen
                ),
                completion_only_loss=True,
            ),
            train_dataset=Dataset.from_list([example(row, chat) for row in train_rows]),
            eval_dataset=(
                Dataset.from_list([example(row, chat) for row in validation_rows])
                if validation_rows is not None
                else None
            ),
            processing_class=tokenizer,
            peft_config=_llm.lora_config(request.options, model) if request.lora else None,
            callbacks=[_llm.trainer_callback(metric_log)],
        )
        _llm.train(trainer, ctx.checkpoint_dir)
        final = metric_log.final()
        _llm.save_outputs(trainer, tokenizer, ctx.model_dir, request, final)
        _llm.log_model_artifacts(tracker, ctx.model_dir, request)


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
        return {"prompt": _llm.plain_text(prompt) + "assistant: ", "completion": answer}
    if chat:
        return {
            "prompt": [{"role": "user", "content": row["prompt"]}],
            "completion": [{"role": "assistant", "content": row["completion"]}],
        }
    return {"prompt": row["prompt"], "completion": row["completion"]}


if __name__ == "__main__":
    configure_logging(logging.getLogger("sageyard.programs"))
    run(main)
