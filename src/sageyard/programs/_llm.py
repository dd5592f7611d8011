"""What the fine-tuning programs (SFT and DPO) share: request, data, model, metrics, outputs.

A fine-tuning job has three channels: ``model`` (a Hugging Face causal LM folder, or a
``model.tar.gz`` of one from an earlier job), ``train`` and, optionally, ``validation``
(JSONL files checked by :func:`sageyard.models.datasets.read_rows`). Its hyperparameters
are the options of :func:`sageyard.models.options.option_specs` plus ``training_type``
(``lora`` or ``full``), ``base_model`` and the ``mlflow_*`` settings.

Each program reads its request and data first (:func:`parse_request`,
:func:`read_dataset`), so a bad request fails in a second: torch, transformers, TRL, PEFT
and MLflow are imported inside the functions that need them, never at module level.

Metrics go to stdout as one line per trainer log event (:func:`metrics_line`)::

    #metrics step=10 epoch=0.50 train:loss=1.234 train:learning_rate=0.0002 ...

Example:
    >>> request = parse_request({"epochs": "2", "training_type": "full"}, "sft")
    >>> request.options["epochs"], request.lora
    (2, False)
"""

from __future__ import annotations

import json
import logging
import re
import tarfile
import tempfile
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sageyard.models.options import TRAINING_TYPES, option_specs, parse_options
from sageyard.programs._common import AlgorithmError, ProgramContext
from sageyard.programs._llm_metrics import (
    MetricLog,
    trainer_callback,
)
from sageyard.programs._llm_mlflow import log_model_artifacts, mlflow_run

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase, Trainer

log = logging.getLogger("sageyard.programs._llm")

# Hyperparameters a fine-tuning job carries besides the options of its technique.
EXTRA_HYPERPARAMETERS = (
    "training_type",
    "base_model",
    "mlflow_tracking_uri",
    "mlflow_experiment_name",
    "mlflow_run_name",
)
_IGNORED = ("_tuning_objective_metric",)
DEFAULT_TRAINING_TYPE = "lora"
METADATA_FILE = "sageyard-fine-tuning.json"
ADAPTER_FOLDER = "adapter"
_OPTIMIZERS = {"adamw": "adamw_torch"}  # the options' names → TrainingArguments.optim
_CHECKPOINT = re.compile(r"checkpoint-(\d+)")
_CHANNEL_ALIASES = {"train": ("training",)}  # as SageMaker's JumpStart names it

# -- the request ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MlflowSettings:
    """Where a job logs to MLflow: given by ``mlflow_*`` hyperparameters."""

    experiment_name: str
    tracking_uri: str | None = None
    run_name: str | None = None


@dataclass(frozen=True)
class Request:
    """A fine-tuning job's hyperparameters, typed and checked."""

    technique: str
    training_type: str
    options: dict[str, Any]
    base_model: str | None = None
    mlflow: MlflowSettings | None = None

    @property
    def lora(self) -> bool:
        return self.training_type == "lora"


def check_job_hyperparameters(raw: Mapping[str, str], technique: str) -> None:
    """Before a job is created: the check :func:`parse_request` makes in the job.

    Raises:
        ConfigurationError: (a ValueError) What :func:`parse_request` would fail the job with.
    """
    from sageyard.core.exceptions import ConfigurationError

    try:
        parse_request(raw, technique)
    except AlgorithmError as error:
        raise ConfigurationError(str(error).removeprefix("ClientError: ")) from None


def parse_request(raw: Mapping[str, str], technique: str) -> Request:
    """The job's hyperparameters as a :class:`Request`.

    Raises:
        AlgorithmError: An unknown name (the message lists the valid ones), a bad
            ``training_type`` or a value of the wrong type or out of range.
    """
    training_type = str(raw.get("training_type", DEFAULT_TRAINING_TYPE)).strip().lower()
    if training_type not in TRAINING_TYPES:
        raise AlgorithmError(
            f"ClientError: Hyperparameter training_type={raw['training_type']!r} is not valid; "
            f"choose from {', '.join(TRAINING_TYPES)}."
        )
    specs = option_specs(technique, training_type)
    valid = sorted({*specs, *EXTRA_HYPERPARAMETERS})
    unknown = [
        name
        for name in raw
        if name not in valid and name not in _IGNORED and not name.startswith("sagemaker_")
    ]
    if unknown:
        lora_only = [name for name in unknown if name in option_specs(technique, "lora")]
        hint = f" ({', '.join(lora_only)}: only with training_type='lora')" if lora_only else ""
        raise AlgorithmError(
            f"ClientError: {', '.join(map(repr, unknown))} "
            f"{'is not a hyperparameter' if len(unknown) == 1 else 'are not hyperparameters'} "
            f"of {technique.upper()} {training_type} fine-tuning{hint}. "
            f"Valid names: {', '.join(valid)}."
        )
    try:
        options = parse_options(specs, raw)
    except ValueError as error:
        raise AlgorithmError(f"ClientError: Hyperparameter {error}") from None
    mlflow = None
    if raw.get("mlflow_experiment_name"):
        mlflow = MlflowSettings(
            experiment_name=raw["mlflow_experiment_name"],
            tracking_uri=raw.get("mlflow_tracking_uri") or None,
            run_name=raw.get("mlflow_run_name") or None,
        )
    return Request(
        technique=technique,
        training_type=training_type,
        options=options,
        base_model=raw.get("base_model") or None,
        mlflow=mlflow,
    )


# -- data -------------------------------------------------------------------------------------


def read_dataset(
    ctx: ProgramContext, channel: str, technique: str, required: bool = False
) -> list[dict[str, Any]] | None:
    """The checked rows of a channel's JSONL files, or None for a missing optional channel.

    The ``train`` channel may also be named ``training``, as SageMaker's JumpStart and
    recipes name it.
    """
    from sageyard.models.datasets import read_rows

    names = (channel, *_CHANNEL_ALIASES.get(channel, ()))
    found = next((name for name in names if name in ctx.input_data_config), None)
    if found is None:
        if required:
            given = ", ".join(sorted(ctx.input_data_config)) or "none"
            raise AlgorithmError(
                f"ClientError: {technique.upper()} fine-tuning needs a {channel!r} channel "
                f"(channels given: {given}); pass InputData(channel_name={channel!r}, ...)."
            )
        return None
    try:
        rows = read_rows(ctx.input_data_dir / found, technique)
    except ValueError as error:
        raise AlgorithmError(f"ClientError: In the {found!r} channel: {error}") from None
    log.info("Read %d rows from the %r channel", len(rows), found)
    return rows


def chat_template_of(tokenizer: PreTrainedTokenizerBase) -> bool:
    """Whether the tokenizer renders chat messages (then rows are given as messages)."""
    return bool(getattr(tokenizer, "chat_template", None))


def plain_text(messages: list[dict[str, str]]) -> str:
    """Chat messages as plain text for a tokenizer with no chat template."""
    return "".join(f"{m['role']}: {m['content']}\n" for m in messages)


# -- the model --------------------------------------------------------------------------------


@contextmanager
def model_folder(ctx: ProgramContext) -> Iterator[Path]:
    """The folder of the ``model`` channel's model (extracted from ``*.tar.gz`` if need be)."""
    channel = ctx.channel("model")
    if channel is None:
        given = ", ".join(sorted(ctx.input_data_config)) or "none"
        raise AlgorithmError(
            "ClientError: Fine-tuning needs a 'model' channel holding a Hugging Face model "
            f"folder or a model.tar.gz (channels given: {given})."
        )
    with tempfile.TemporaryDirectory(prefix="sageyard-model-") as scratch:
        yield find_model_folder(channel, Path(scratch))


def find_model_folder(channel: Path, scratch: Path) -> Path:
    """The shallowest folder with a ``config.json`` in ``channel`` or in its archives.

    Archives (``*.tar.gz``, ``*.tgz``, ``*.tar``) are extracted into ``scratch`` when the
    channel holds no model folder itself.
    """
    found = _shallowest_config(channel)
    if found is not None:
        return found
    archives = sorted(p for p in channel.rglob("*") if p.is_file() and _is_tar(p))
    for number, archive in enumerate(archives):
        target = scratch / f"archive-{number}"
        log.info("Extracting %s", archive.relative_to(channel))
        try:
            with tarfile.open(archive) as tar:
                tar.extractall(target, filter="data")
        except (tarfile.TarError, OSError) as error:
            raise AlgorithmError(
                f"ClientError: The 'model' channel's archive {archive.name} cannot be "
                f"extracted: {error}."
            ) from None
        found = _shallowest_config(target)
        if found is not None:
            return found
    held = sorted(str(p.relative_to(channel)) for p in channel.rglob("*") if p.is_file())[:10]
    raise AlgorithmError(
        "ClientError: The 'model' channel holds no Hugging Face model: no config.json in it "
        f"or in a model.tar.gz (it holds: {', '.join(held) or 'nothing'}). Give a folder "
        "saved with save_pretrained, or the model.tar.gz of an earlier job."
    )


def _is_tar(path: Path) -> bool:
    return path.name.endswith((".tar.gz", ".tgz", ".tar"))


def _shallowest_config(root: Path) -> Path | None:
    configs = sorted(root.rglob("config.json"), key=lambda p: (len(p.parts), str(p)))
    return configs[0].parent if configs else None


@dataclass(frozen=True)
class Precision:
    """Where and in which dtype a job trains."""

    device: str  # "cuda" or "cpu"
    dtype_name: str  # the dtype the model is loaded in: "bfloat16" or "float32"
    bf16: bool  # bf16 mixed precision in the trainer


def precision(training_type: str) -> Precision:
    """CUDA with bf16 where supported (LoRA loads the base in bf16), else CPU float32."""
    import torch

    if torch.cuda.is_available():
        bf16 = torch.cuda.is_bf16_supported()
        dtype = "bfloat16" if bf16 and training_type == "lora" else "float32"
        return Precision("cuda", dtype, bf16)
    return Precision("cpu", "float32", False)


def load_model(
    folder: Path, request: Request, chosen: Precision
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """The causal LM and tokenizer in ``folder`` (the tokenizer gets a pad token if need be)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, set_seed

    set_seed(request.options["seed"])  # LoRA's initial weights too
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder)
        model = AutoModelForCausalLM.from_pretrained(
            folder, dtype=getattr(torch, chosen.dtype_name)
        )
    except (OSError, ValueError, KeyError) as error:
        raise AlgorithmError(
            "ClientError: The 'model' channel's model does not load as a Hugging Face causal "
            f"language model with its tokenizer: {type(error).__name__}: {error}"
        ) from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    parameters = sum(p.numel() for p in model.parameters())
    log.info(
        "Loaded %s (%s parameters, %s) on %s; chat template: %s",
        type(model).__name__,
        f"{parameters:,}",
        chosen.dtype_name,
        chosen.device,
        "yes" if chat_template_of(tokenizer) else "no",
    )
    return model, tokenizer


def lora_config(options: Mapping[str, Any], model: PreTrainedModel) -> Any:
    """PEFT's ``LoraConfig`` for the options; target module names are checked on ``model``."""
    import torch
    from peft import LoraConfig

    targets = list(options["target_modules"])
    target: str | list[str] = "all-linear" if targets == ["all-linear"] else targets
    if isinstance(target, list):
        names = [name for name, _ in model.named_modules()]
        missing = [t for t in target if not any(n == t or n.endswith(f".{t}") for n in names)]
        if missing:
            linear = sorted(
                {
                    name.rsplit(".", 1)[-1]
                    for name, module in model.named_modules()
                    if isinstance(module, torch.nn.Linear)
                }
            )
            raise AlgorithmError(
                f"ClientError: Hyperparameter target_modules names {', '.join(missing)}, which "
                f"the model does not have. Its linear layers: {', '.join(linear)} "
                '(or use ["all-linear"]).'
            )
    return LoraConfig(
        r=options["lora_r"],
        lora_alpha=options["lora_alpha"],
        lora_dropout=options["lora_dropout"],
        target_modules=target,
        task_type="CAUSAL_LM",
    )


# -- training ---------------------------------------------------------------------------------


def training_arguments(
    request: Request, output_dir: Path, has_validation: bool, chosen: Precision
) -> dict[str, Any]:
    """Keyword arguments of TRL's ``SFTConfig`` / ``DPOConfig`` for the request."""
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
        "max_length": options["max_seq_length"],
        "bf16": chosen.bf16,
        "dataloader_pin_memory": chosen.device == "cuda",
        "include_num_input_tokens_seen": "non_padding",
        "report_to": "none",
        "disable_tqdm": True,
    }
    if has_validation:
        arguments["eval_steps"] = options["eval_steps"]
    if request.technique == "dpo":
        arguments["beta"] = options["beta"]
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


# -- the program ------------------------------------------------------------------------------


def fine_tune(
    ctx: ProgramContext,
    technique: str,
    example: Callable[[dict[str, Any], bool], dict[str, Any]],
    make_trainer: Callable[..., Trainer],
) -> None:
    """What every fine-tuning program does, around its own TRL trainer.

    Checks the request and the data (before heavy imports), loads the model, builds the
    trainer with ``make_trainer(arguments, model=..., train_dataset=..., eval_dataset=...,
    processing_class=..., peft_config=..., callbacks=...)`` — ``arguments`` being the
    TrainingArguments fields for the technique's config class — trains (resuming from the
    latest checkpoint), prints the final metrics and saves the model. ``example`` turns a
    dataset row into the trainer's row (``chat``: the tokenizer has a chat template).
    """
    request = parse_request(ctx.hyperparameters, technique)
    train_rows = read_dataset(ctx, "train", technique, required=True)
    validation_rows = read_dataset(ctx, "validation", technique)
    assert train_rows is not None
    if ctx.hosts and ctx.current_host != ctx.hosts[0]:
        log.info("This job has %d hosts; fine-tuning runs on the first only.", len(ctx.hosts))
        return
    with model_folder(ctx) as folder, mlflow_run(request) as tracker:
        quiet_libraries()
        from datasets import Dataset

        chosen = precision(request.training_type)
        model, tokenizer = load_model(folder, request, chosen)
        chat = chat_template_of(tokenizer)
        metric_log = MetricLog(on_metrics=tracker.log_metrics if tracker else None)
        trainer = make_trainer(
            training_arguments(request, ctx.checkpoint_dir, validation_rows is not None, chosen),
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
        save_outputs(trainer, tokenizer, ctx.model_dir, request, final)
        log_model_artifacts(tracker, ctx.model_dir, request)


# -- outputs ----------------------------------------------------------------------------------


def save_outputs(
    trainer: Trainer,
    tokenizer: PreTrainedTokenizerBase,
    model_dir: Path,
    request: Request,
    final_metrics: Mapping[str, float],
) -> None:
    """The model (merged, for LoRA, with ``adapter/`` beside it), tokenizer and metadata."""
    model: Any = trainer.model
    model_dir.mkdir(parents=True, exist_ok=True)
    if request.lora:
        adapter = model_dir / ADAPTER_FOLDER
        model.save_pretrained(adapter)
        (adapter / "README.md").unlink(missing_ok=True)  # PEFT's empty model card
        if request.base_model:  # rather than the job's scratch folder
            config = adapter / "adapter_config.json"
            settings = json.loads(config.read_text())
            settings["base_model_name_or_path"] = request.base_model
            config.write_text(json.dumps(settings, indent=2, sort_keys=True) + "\n")
        model = model.merge_and_unload()
        log.info("Saved the LoRA adapter to %s/ and the merged model beside it", ADAPTER_FOLDER)
    model.save_pretrained(model_dir)
    tokenizer.save_pretrained(model_dir)
    metadata = {
        "base_model": request.base_model,
        "technique": request.technique,
        "training_type": request.training_type,
        "hyperparameters": request.options,
        "final_metrics": dict(final_metrics),
    }
    (model_dir / METADATA_FILE).write_text(json.dumps(metadata, indent=2) + "\n")
    log.info("Saved the model to %s", model_dir)
