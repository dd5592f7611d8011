"""Direct preference optimisation: ``python -m sageyard.programs.dpo`` inside a job.

1. **Request.** The hyperparameters of ``option_specs("dpo", training_type)`` (``beta``
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
5. **Model.** As SFT's: a loadable (merged) model, ``adapter/`` for LoRA, the tokenizer and
   ``sageyard-fine-tuning.json``.
"""

from __future__ import annotations

import logging
from typing import Any

from sageyard.programs import _llm
from sageyard.programs._common import ProgramContext, configure_logging, run

log = logging.getLogger("sageyard.programs.dpo")

TECHNIQUE = "dpo"


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
        from trl import DPOConfig, DPOTrainer

        chosen = _llm.precision(request.training_type)
        model, tokenizer = _llm.load_model(folder, request, chosen)
        chat = _llm.chat_template_of(tokenizer)
        metric_log = _llm.MetricLog(on_metrics=tracker.log_metrics if tracker else None)
        trainer = DPOTrainer(
            model=model,
            args=DPOConfig(
                **_llm.training_arguments(
                    request, ctx.checkpoint_dir, validation_rows is not None, chosen
                )
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
