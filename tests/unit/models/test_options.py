"""The fine-tuning hyperparameter specs and FineTuningOptions built on them."""

from __future__ import annotations

from typing import Any

import pytest

from sageyard.core.exceptions import ConfigurationError
from sageyard.models.options import parse_options
from sageyard.programs import program
from sageyard.train.common import FineTuningOptions


def option_specs(technique: str, training_type: str) -> dict[str, dict[str, Any]]:
    return program(technique).option_specs(training_type)


def options(technique: str = "sft", training_type: str = "lora") -> FineTuningOptions:
    return FineTuningOptions(option_specs(technique, training_type))


def test_defaults_match_the_reference() -> None:
    hp = options()
    assert (hp.epochs, hp.learning_rate, hp.per_device_train_batch_size) == (3, 2e-4, 4)
    assert (hp.per_device_eval_batch_size, hp.gradient_accumulation_steps) == (8, 1)
    assert (hp.lora_r, hp.lora_alpha, hp.lora_dropout) == (8, 16, 0.05)
    assert options("dpo").beta == 0.1


def test_specs_differ_by_technique_and_training_type() -> None:
    assert "lora_r" not in option_specs("sft", "full")
    assert "beta" not in option_specs("sft", "lora")
    assert "beta" in option_specs("dpo", "full")
    assert option_specs("sft", "full")["learning_rate"]["default"] < 2e-4
    with pytest.raises(ValueError, match="lora_r"):
        options("sft", "full").lora_r = 8
    with pytest.raises(
        ConfigurationError, match="training_type must be one of lora, full, got 'q'"
    ):
        option_specs("sft", "q")
    with pytest.raises(ConfigurationError, match="'xgboost' is not a fine-tuning program"):
        option_specs("xgboost", "lora")


def test_each_call_gives_a_fresh_copy() -> None:
    first = option_specs("sft", "lora")
    first["target_modules"]["default"].append("k_proj")
    assert option_specs("sft", "lora")["target_modules"]["default"] == ["q_proj", "v_proj"]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("epochs", -1, r"epochs=-1 is out of range: it must be between 1 and 50"),
        ("epochs", 100, "between 1 and 50"),
        ("epochs", 2.5, "epochs must be an integer between 1 and 50, got 2.5"),
        ("epochs", "3", "must be an integer"),
        ("learning_rate", "fast", "learning_rate must be a number"),
        ("optimizer", "lion", "must be one of 'adamw'"),
        ("target_modules", [], "non-empty list of strings"),
        ("lora_dropout", 1.5, "between 0.0 and 1.0"),
        ("epochz", 3, r"Unknown hyperparameter 'epochz'. Valid names: .*epochs"),
    ],
)
def test_bad_values_say_what_is_valid_and_change_nothing(
    name: str, value: object, message: str
) -> None:
    hp = options()
    before = hp.to_dict()
    with pytest.raises(ValueError, match=message):
        setattr(hp, name, value)
    assert hp.to_dict() == before


def test_values_convert_and_travel_as_strings() -> None:
    hp = options()
    hp.epochs = 2.0  # an integral float is an integer
    hp.learning_rate = 1  # an int is a number
    hp.target_modules = "q_proj, k_proj"
    assert hp.epochs == 2 and hp.learning_rate == 1.0
    assert hp.target_modules == ["q_proj", "k_proj"]
    values = hp.to_dict()
    assert values["epochs"] == "2" and values["target_modules"] == '["q_proj", "k_proj"]'
    assert all(isinstance(v, str) for v in values.values())
    # ... and parse back to the same typed values, as the in-job program reads them
    assert parse_options(option_specs("sft", "lora"), values) == hp.values()


def test_get_info_prints_type_default_and_range(capsys: pytest.CaptureFixture[str]) -> None:
    hp = options()
    hp.get_info("epochs")
    out = capsys.readouterr().out
    assert "epochs: 3" in out and "type=integer" in out and "range=[1, 50]" in out
    hp.get_info()
    assert capsys.readouterr().out.count("type=") == len(option_specs("sft", "lora"))
    with pytest.raises(ValueError, match="Unknown hyperparameter 'nope'"):
        hp.get_info("nope")


def test_unknown_attribute_read_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="Valid names"):
        _ = options().nope
    assert "lora_r" in dir(options())


def test_parse_options_rejects_bad_job_values() -> None:
    with pytest.raises(ValueError, match="epochs must be an integer"):
        parse_options(option_specs("sft", "lora"), {"epochs": "many"})
