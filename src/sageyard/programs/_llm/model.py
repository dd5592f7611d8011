"""The model of a fine-tuning job: the ``model`` channel's folder, loading it, precision, LoRA.

Example:
    >>> find_model_folder(Path("/opt/ml/input/data/model"), Path("/tmp/x"))  # doctest: +SKIP
    PosixPath('/opt/ml/input/data/model')
"""

from __future__ import annotations

import logging
import tarfile
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sageyard.programs._common import AlgorithmError, ProgramContext
from sageyard.programs._llm.data import chat_template_of

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

    from sageyard.programs._llm.request import Request

__all__ = [
    "Precision",
    "find_model_folder",
    "load_model",
    "lora_config",
    "model_folder",
    "precision",
]

log = logging.getLogger(__name__)


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
