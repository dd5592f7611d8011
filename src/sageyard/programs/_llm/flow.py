"""What every fine-tuning program does around its own TRL trainer: :func:`fine_tune`.

Request and data first (before any heavy import), then the model, the trainer, training
(resuming from the latest checkpoint), the final metrics and the saved model. Under torchrun
(a job with several hosts or GPUs) every rank trains data-parallel and rank 0 speaks for
the job (:class:`Ranks`). A program
supplies only what differs: how a dataset row becomes the trainer's row, the trainer
itself, and the options its trainer config takes by name (DPO's ``beta``).

Example:
    >>> def main(ctx):  # a program's main
    ...     fine_tune(ctx, PROGRAM, example, make_trainer, config_options=("beta",))
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sageyard.programs._common import ProgramContext
from sageyard.programs._llm.data import chat_template_of, read_dataset
from sageyard.programs._llm.metrics import METRIC_NAMES, MetricLog, trainer_callback
from sageyard.programs._llm.mlflow import log_model_artifacts, mlflow_run
from sageyard.programs._llm.model import (
    Precision,
    load_model,
    lora_config,
    model_folder,
    precision,
)
from sageyard.programs._llm.outputs import save_outputs
from sageyard.programs._llm.request import Request, parse_request

if TYPE_CHECKING:
    from transformers import Trainer

    from sageyard.programs._spec import ProgramSpec

__all__ = [
    "Ranks",
    "fine_tune",
    "latest_checkpoint",
    "quiet_libraries",
    "train",
    "training_arguments",
]

log = logging.getLogger(__name__)

_OPTIMIZERS = {"adamw": "adamw_torch"}  # the options' names → TrainingArguments.optim
_CHECKPOINT = re.compile(r"checkpoint-(\d+)")


def training_arguments(
    request: Request,
    output_dir: Path,
    has_validation: bool,
    chosen: Precision,
    config_options: Sequence[str] = (),
) -> dict[str, Any]:
    """Keyword arguments of the technique's TRL config (``SFTConfig``, ``DPOConfig``).

    The TrainingArguments every technique shares, from the request's options, plus the
    options named in ``config_options``, passed under their own names (DPO's ``beta``).
    """
    options = request.options
    arguments: dict[str, Any] = {
        "output_dir": str(output_dir),
        "num_train_epochs": options["epochs"],
        "max_steps": options["max_steps"],
        "learning_rate": options["learning_rate"],
        "per_device_train_batch_size": options["per_device_train_batch_size"],
        "per_device_eval_batch_size": options["per_device_eval_batch_size"],
        "gradient_accumulation_steps": options["gradient_accumulation_steps"],
        # a float below 1 is a ratio of the steps (transformers 5 has no warmup_ratio)
        "warmup_steps": min(options["warmup_ratio"], 0.9999),
        "weight_decay": options["weight_decay"],
        "optim": _OPTIMIZERS.get(options["optimizer"], options["optimizer"]),
        "max_grad_norm": options["max_grad_norm"],
        "lr_scheduler_type": options["lr_scheduler_type"],
        "logging_strategy": "steps",
        "logging_steps": options["logging_steps"],
        "logging_first_step": True,
        "save_strategy": "steps",
        "save_steps": options["save_steps"],
        "eval_strategy": "steps" if has_validation else "no",
        "seed": options["seed"],
        "bf16": chosen.bf16,
        "dataloader_pin_memory": chosen.device == "cuda",
        "include_num_input_tokens_seen": "non_padding",
        "report_to": "none",
        "disable_tqdm": True,
    }
    if "max_seq_length" in options:  # reinforcement learning bounds prompts and responses
        arguments["max_length"] = options["max_seq_length"]
    if has_validation:
        arguments["eval_steps"] = options["eval_steps"]
    for name in config_options:
        arguments[name] = options[name]
    return arguments


def latest_checkpoint(folder: Path) -> Path | None:
    """The ``checkpoint-<N>`` folder with the highest N that holds a trainer state."""
    if not folder.is_dir():
        return None
    found = [
        (int(match.group(1)), path)
        for path in folder.iterdir()
        if (match := _CHECKPOINT.fullmatch(path.name))
        and path.is_dir()
        and (path / "trainer_state.json").is_file()
    ]
    return max(found)[1] if found else None


def train(trainer: Trainer, checkpoint_dir: Path) -> None:
    """Train, resuming from the latest checkpoint in ``checkpoint_dir`` if there is one."""
    from transformers import PrinterCallback

    trainer.remove_callback(PrinterCallback)  # it prints each log as a dict: ours print lines
    checkpoint = latest_checkpoint(checkpoint_dir)
    if checkpoint is not None:
        log.info(
            "Resuming from checkpoint %s: %s steps done",
            checkpoint.name,
            checkpoint.name.rsplit("-", 1)[1],
        )
    trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)


def quiet_libraries() -> None:
    """Keep the job's log readable: no progress bars and no libraries' deprecation notices.

    The metrics lines show progress; the notices are between the libraries (TRL calling
    transformers), which users cannot act on.
    """
    import datasets
    from transformers.utils import logging as transformers_logging

    datasets.disable_progress_bars()
    transformers_logging.disable_progress_bar()
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"(transformers|trl|peft)\.")


def fine_tune(
    ctx: ProgramContext,
    program: ProgramSpec,
    example: Callable[[dict[str, Any], bool], dict[str, Any]],
    make_trainer: Callable[..., Trainer],
    config_options: Sequence[str] = (),
    metric_names: Callable[[str], str | None] = METRIC_NAMES.get,
) -> None:
    """What every fine-tuning program does, around its own TRL trainer.

    Checks the request and the data (before heavy imports), loads the model, builds the
    trainer with ``make_trainer(arguments, model=..., train_dataset=..., eval_dataset=...,
    processing_class=..., peft_config=..., callbacks=...)`` — ``arguments`` being the
    fields of the technique's config class (:func:`training_arguments`, with
    ``config_options``) — trains (resuming from the latest checkpoint), prints the final
    metrics and saves the model. ``example`` turns a dataset row into the trainer's row
    (``chat``: the tokenizer has a chat template); ``metric_names`` names the trainer's
    log keys as metrics (:func:`~sageyard.programs._llm.metrics.named_metrics`).
    """
    request = parse_request(ctx.hyperparameters, program)
    train_rows = read_dataset(ctx, "train", program, required=True)
    validation_rows = read_dataset(ctx, "validation", program)
    assert train_rows is not None
    ranks = Ranks.of_environment()
    if ctx.hosts and ctx.current_host != ctx.hosts[0] and ranks.world == 1:
        log.info("This job has %d hosts; fine-tuning runs on the first only.", len(ctx.hosts))
        return
    if ranks.world > 1 and ranks.primary:
        log.info(
            "Fine-tuning data-parallel over %d processes on %d host(s)",
            ranks.world,
            len(ctx.hosts),
        )
    with model_folder(ctx) as folder, mlflow_run(request, enabled=ranks.primary) as tracker:
        quiet_libraries()
        from datasets import Dataset

        chosen = precision(request.training_type)
        model, tokenizer = load_model(folder, request, chosen)
        chat = chat_template_of(tokenizer)
        metric_log = MetricLog(
            emit=_print if ranks.primary else _quiet,  # rank 0 speaks for the job
            on_metrics=tracker.log_metrics if tracker else None,
            names=metric_names,
        )
        arguments = training_arguments(
            request, ctx.checkpoint_dir, validation_rows is not None, chosen, config_options
        )
        if ranks.world > 1:
            arguments.update(ranks.trainer_arguments(chosen, hosts=len(ctx.hosts)))
        trainer = make_trainer(
            arguments,
            model=model,
            train_dataset=Dataset.from_list([example(row, chat) for row in train_rows]),
            eval_dataset=(
                Dataset.from_list([example(row, chat) for row in validation_rows])
                if validation_rows is not None
                else None
            ),
            processing_class=tokenizer,
            peft_config=lora_config(request.options, model) if request.lora else None,
            callbacks=[trainer_callback(metric_log)],
        )
        train(trainer, ctx.checkpoint_dir)
        final = metric_log.final()
        if ranks.primary:  # rank 0 saves the model (its host's model folder is the job's)
            save_outputs(trainer, tokenizer, ctx.model_dir, request, final)
            log_model_artifacts(tracker, ctx.model_dir, request)
    ranks.finish()


@dataclass(frozen=True)
class Ranks:
    """This process's place in a data-parallel fine-tuning job (torchrun's variables)."""

    rank: int = 0
    world: int = 1

    @classmethod
    def of_environment(cls) -> Ranks:
        return cls(int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1")))

    @property
    def primary(self) -> bool:
        """Rank 0: it prints the metrics, logs to MLflow and saves the model."""
        return self.rank == 0

    def finish(self) -> None:
        """Every rank waits for the others (rank 0 saving the model), then leaves the
        process group: a rank that exits with it still up can abort (gloo's threads)."""
        import torch.distributed as dist

        if self.world > 1 and dist.is_initialized():
            dist.barrier()
            dist.destroy_process_group()

    def trainer_arguments(self, chosen: Precision, hosts: int) -> dict[str, Any]:
        """What TrainingArguments need across processes: gloo and ``use_cpu`` on CPU (NCCL
        on GPU), no search for unused parameters (LoRA freezes most, on purpose), and,
        across hosts, checkpoints on every host, whose own checkpoint folder a resumed job
        reads."""
        return {
            "ddp_backend": "nccl" if chosen.device == "cuda" else "gloo",
            # without it transformers trains each CPU process on its own, unsynchronised
            "use_cpu": chosen.device != "cuda",
            "ddp_find_unused_parameters": False,
            "save_on_each_node": hosts > 1,
        }


def _print(line: str) -> None:
    print(line, flush=True)


def _quiet(line: str) -> None:
    """Another rank's metrics line: rank 0 prints the job's."""
