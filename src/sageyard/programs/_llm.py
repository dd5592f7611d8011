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
import os
import re
import tarfile
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sageyard.models.options import TRAINING_TYPES, option_specs, parse_options
from sageyard.programs._common import AlgorithmError, ProgramContext

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase, Trainer, TrainerCallback

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

# Trainer log keys → metric names (``train:<name>``; ``eval_<key>`` → ``validation:<name>``).
# Printed once, at the end: how the training went (the trainer's runtime, TRL's count of
# the tokens trained on, and peak memory).
SUMMARY_METRICS = ("train:runtime", "train:num_tokens", "train:peak_rss_mb", "train:peak_gpu_mb")

METRIC_NAMES = {
    "loss": "loss",
    "learning_rate": "learning_rate",
    "grad_norm": "grad_norm",
    "mean_token_accuracy": "token_accuracy",
    "rewards/margins": "reward_margin",
    "rewards/accuracies": "reward_accuracy",
    "rewards/chosen": "reward_chosen",
    "rewards/rejected": "reward_rejected",
}


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


# -- metrics ----------------------------------------------------------------------------------


def metrics_line(step: int, epoch: float | None, metrics: Mapping[str, float]) -> str:
    """One ``#metrics`` line, the format the programs' METRIC_DEFINITIONS read.

    Example:
        >>> metrics_line(10, 0.5, {"train:loss": 1.234, "train:learning_rate": 2e-4})
        '#metrics step=10 epoch=0.50 train:loss=1.234 train:learning_rate=0.0002'
    """
    parts = [f"#metrics step={step}"]
    if epoch is not None:
        parts.append(f"epoch={epoch:.2f}")
    parts += [f"{name}={value:.6g}" for name, value in metrics.items()]
    return " ".join(parts)


def metric_regex(name: str) -> str:
    """The regex that reads ``name`` from :func:`metrics_line` lines.

    Example:
        >>> import re
        >>> re.search(metric_regex("train:loss"), "#metrics step=1 train:loss=0.5").group(1)
        '0.5'
    """
    return rf"#metrics step=\d+.* {re.escape(name)}=(\S+)"


def named_metrics(logs: Mapping[str, Any]) -> tuple[str, dict[str, float]]:
    """``("train" | "validation" | "", metrics)`` for one trainer log event."""
    if "eval_loss" in logs:
        kind, prefix = "validation", "eval_"
    elif "loss" in logs:
        kind, prefix = "train", ""
    else:  # the summary at the end of training (train_runtime, ...), or anything else
        return "", {}
    metrics = {
        f"{kind}:{name}": float(logs[prefix + key])
        for key, name in METRIC_NAMES.items()
        if isinstance(logs.get(prefix + key), int | float)
    }
    return kind, metrics


@dataclass
class MetricLog:
    """Turns the trainer's log events into ``#metrics`` lines (and MLflow metrics).

    ``train:tokens_per_second`` counts the non-padding tokens the trainer fed the model
    since the last train log, over the time its optimizer steps took.
    """

    emit: Callable[[str], None] = field(default=lambda line: print(line, flush=True))
    on_metrics: Callable[[dict[str, float], int], None] | None = None
    clock: Callable[[], float] = time.monotonic
    latest: dict[str, float] = field(default_factory=dict)
    step: int = 0
    epoch: float | None = None
    summary: dict[str, float] = field(default_factory=dict)
    _tokens: int = 0
    _busy: float = 0.0
    _started: float | None = None

    def train_begins(self, tokens_seen: int) -> None:
        self._tokens, self._busy = tokens_seen, 0.0

    def step_begins(self) -> None:
        self._started = self.clock()

    def step_ends(self) -> None:
        if self._started is not None:
            self._busy += self.clock() - self._started
            self._started = None

    def record(
        self, step: int, epoch: float | None, logs: Mapping[str, Any], tokens_seen: int
    ) -> None:
        if isinstance(logs.get("num_tokens"), int | float):
            self.summary["train:num_tokens"] = float(logs["num_tokens"])  # TRL's own count
        if isinstance(logs.get("train_runtime"), int | float):
            self.summary["train:runtime"] = float(logs["train_runtime"])
            self.summary.setdefault("train:num_tokens", float(tokens_seen))
        kind, metrics = named_metrics(logs)
        if kind == "train" and self._busy > 0:
            metrics["train:tokens_per_second"] = (tokens_seen - self._tokens) / self._busy
            self._tokens, self._busy = tokens_seen, 0.0
        if not metrics:
            return
        self.step, self.epoch = step, epoch
        self.latest.update(metrics)
        self.emit(metrics_line(step, epoch, metrics))
        if self.on_metrics is not None:
            self.on_metrics(metrics, step)

    def final(self) -> dict[str, float]:
        """Print and return the final metrics: the last train loss and validation values,
        and how the training went: its runtime, tokens and peak memory."""
        final = {
            name: value
            for name, value in self.latest.items()
            if name == "train:loss" or name.startswith("validation:")
        }
        final.update(self.summary)
        final.update(peak_memory())
        if final:
            self.emit(metrics_line(self.step, self.epoch, final))
        return final


def peak_memory() -> dict[str, float]:
    """``train:peak_rss_mb``: this process's peak resident set; on a GPU also
    ``train:peak_gpu_mb``, the most memory torch allocated on it."""
    import resource
    import sys

    peak = {"train:peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        peak["train:peak_gpu_mb"] = torch.cuda.max_memory_allocated() / 2**20
    return peak


def trainer_callback(metric_log: MetricLog) -> TrainerCallback:
    """A transformers callback feeding ``metric_log``; it also logs the last step's loss."""
    from transformers import TrainerCallback

    class _MetricsCallback(TrainerCallback):
        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            metric_log.train_begins(state.num_input_tokens_seen)

        def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            metric_log.step_begins()

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            metric_log.step_ends()
            if state.global_step >= state.max_steps:
                control.should_log = True  # the final train loss, whatever logging_steps is

        def on_log(
            self,
            args: Any,
            state: Any,
            control: Any,
            logs: dict[str, Any] | None = None,
            **kwargs: Any,
        ) -> None:
            metric_log.record(
                state.global_step, state.epoch, logs or {}, state.num_input_tokens_seen
            )

    return _MetricsCallback()


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


# -- MLflow -----------------------------------------------------------------------------------


class MlflowRun:
    """An MLflow run of a job: parameters, step metrics and the trained model as artifacts."""

    def __init__(self, settings: MlflowSettings) -> None:
        try:
            import mlflow
        except ImportError:
            raise AlgorithmError(
                f"ClientError: mlflow_experiment_name={settings.experiment_name!r} asks for "
                "MLflow logging, but mlflow is not installed where the job runs; install it "
                "with `pip install mlflow`."
            ) from None
        self._mlflow = mlflow
        if settings.tracking_uri:
            if settings.tracking_uri.startswith("file:"):
                # MLflow 3 refuses its file store unless asked; the user asked for it by name
                os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
            mlflow.set_tracking_uri(settings.tracking_uri)
        if mlflow.get_experiment_by_name(settings.experiment_name) is None:
            # another job may make it meanwhile
            with suppress(mlflow.exceptions.MlflowException):
                mlflow.create_experiment(
                    settings.experiment_name,
                    artifact_location=_artifact_location(settings.tracking_uri),
                )
        mlflow.set_experiment(settings.experiment_name)
        self.run = mlflow.start_run(run_name=settings.run_name)
        log.info(
            "Logging to MLflow: experiment %r, run %s (%s)",
            settings.experiment_name,
            self.run.info.run_name,
            self.run.info.run_id,
        )

    def log_params(self, params: Mapping[str, Any]) -> None:
        self._mlflow.log_params(
            {k: json.dumps(v) if isinstance(v, list) else v for k, v in params.items()}
        )

    def log_metrics(self, metrics: Mapping[str, float], step: int) -> None:
        self._mlflow.log_metrics(dict(metrics), step=step)

    def log_artifacts(self, folder: Path, artifact_path: str) -> None:
        self._mlflow.log_artifacts(str(folder), artifact_path=artifact_path)

    def end(self, failed: bool = False) -> None:
        self._mlflow.end_run(status="FAILED" if failed else "FINISHED")


def _artifact_location(tracking_uri: str | None) -> str | None:
    """Artifacts of a SQLite store go beside its file (MLflow's default is the job's cwd)."""
    if not tracking_uri or not tracking_uri.startswith("sqlite:///"):
        return None
    database = Path(tracking_uri.removeprefix("sqlite:///"))
    return (database.resolve().parent / "artifacts").as_uri()


@contextmanager
def mlflow_run(request: Request) -> Iterator[MlflowRun | None]:
    """An MLflow run with the request's parameters when it asks for one, else None."""
    if request.mlflow is None:
        yield None
        return
    run = MlflowRun(request.mlflow)
    failed = True
    try:
        run.log_params(
            {
                **request.options,
                "technique": request.technique,
                "training_type": request.training_type,
                "base_model": request.base_model or "",
            }
        )
        yield run
        failed = False
    finally:
        run.end(failed=failed)


def log_model_artifacts(run: MlflowRun | None, model_dir: Path, request: Request) -> None:
    """The adapter (LoRA) or the whole model folder (full) as the run's artifacts."""
    if run is None:
        return
    if request.lora:
        run.log_artifacts(model_dir / ADAPTER_FOLDER, artifact_path=ADAPTER_FOLDER)
    else:
        run.log_artifacts(model_dir, artifact_path="model")
