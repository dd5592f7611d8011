"""The fine-tuning trainers with the real SDK's keywords, options and methods."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sageyard.core.exceptions import ConfigurationError
from sageyard.train.common import FineTuningOptions
from sageyard.train.sft_trainer import SFTTrainer


@pytest.fixture
def tiny_sft_model(tmp_path: Path) -> Path:
    """A folder that looks like a Hugging Face model (only what is checked before a job)."""
    folder = tmp_path / "tiny-model"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "llama"}')
    return folder


SPECS = {
    "epochs": {"type": "integer", "default": 1, "min": 1, "max": 10},
    "learning_rate": {"type": "float", "default": 0.001, "min": 0.0, "max": 1.0},
    "per_device_train_batch_size": {"type": "integer", "default": 2, "min": 1, "max": 64},
    "gradient_accumulation_steps": {"type": "integer", "default": 2, "min": 1, "max": 64},
    "max_seq_length": {"type": "integer", "default": 512, "min": 8, "max": 8192},
}


def test_recipe_aliases_set_the_same_options() -> None:
    options = FineTuningOptions(SPECS)
    options.max_epochs = 3
    options.lr = 0.01
    options.dataset_max_len = 256
    assert (options.epochs, options.learning_rate, options.max_seq_length) == (3, 0.01, 256)
    options.global_batch_size = 16  # per device x gradient accumulation, on one device
    assert (options.per_device_train_batch_size, options.global_batch_size) == (8, 16)
    with pytest.raises(ConfigurationError, match="whole multiple"):
        options.global_batch_size = 15


def test_to_user_dict_has_only_what_was_set() -> None:
    options = FineTuningOptions(SPECS)
    assert options.to_user_dict() == {}
    options.epochs = 4
    assert options.to_user_dict() == {"epochs": "4"}
    assert options.to_dict()["learning_rate"] == "0.001"


def test_length_constraints_against_the_sequence_length() -> None:
    options = FineTuningOptions(SPECS, sequence_length=1024)
    options.validate_length_constraints()
    options.max_seq_length = 2048
    with pytest.raises(ConfigurationError, match=r"max_seq_length \(2048\) exceeds"):
        options.validate_length_constraints()
    FineTuningOptions(SPECS).validate_length_constraints()  # no ceiling: nothing to check


def test_the_trainer_takes_the_real_keywords(
    sageyard_home: Path, tiny_sft_model: Path, tmp_path: Path
) -> None:
    data = tmp_path / "train.jsonl"
    data.write_text(json.dumps({"prompt": "Hi", "completion": "Hello"}) + "\n")
    trainer = SFTTrainer(
        model=str(tiny_sft_model),
        training_dataset=str(data),
        sequence_length=4096,
        overrides={"max_epochs": 2},
        hyperparameters={"learning_rate": 0.0005},
        environment={"MY_FLAG": "1"},
        tags=[{"Key": "team", "Value": "ml"}],
        disable_output_compression=True,
    )
    assert (trainer.hyperparameters.epochs, trainer.hyperparameters.learning_rate) == (2, 0.0005)
    assert trainer.train(dry_run=True) is None  # every check, no job
    model_trainer = trainer.to_model_trainer()
    assert model_trainer.environment == {"MY_FLAG": "1"}
    assert model_trainer.output_data_config.compression_type == "NONE"  # type: ignore[union-attr]
    with pytest.raises(ConfigurationError, match="is_multimodal"):
        SFTTrainer(model=str(tiny_sft_model), is_multimodal=True)
    with pytest.raises(ConfigurationError, match="call train"):
        trainer.show_metrics()
