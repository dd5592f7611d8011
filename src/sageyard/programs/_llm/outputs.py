"""What a fine-tuning job leaves in its model folder: the model, tokenizer and metadata.

The folder holds a model that loads with ``AutoModelForCausalLM.from_pretrained`` (for
LoRA: merged, with the adapter in ``adapter/`` beside it), the tokenizer and
``sageyard-fine-tuning.json`` (base model, technique, training type, options, final
metrics).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase, Trainer

    from sageyard.programs._llm.request import Request

__all__ = ["ADAPTER_FOLDER", "METADATA_FILE", "save_outputs"]

log = logging.getLogger(__name__)

METADATA_FILE = "sageyard-fine-tuning.json"
ADAPTER_FOLDER = "adapter"


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
