"""SFTTrainer / DPOTrainer / from_recipe / from_jumpstart_config: everything they check
before a job exists, and the ModelTrainer they build. Real jobs: tests/integration."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sageyard.core.jumpstart import JumpStartConfig
from sageyard.core.parameter import ContinuousParameter
from sageyard.core.settings import Settings
from sageyard.jobs.service import TrainingJobService
from sageyard.train import ModelTrainer
from sageyard.train.common import TrainingType
from sageyard.train.dpo_trainer import DPOTrainer
from sageyard.train.sft_trainer import SFTTrainer
from sageyard.train.tuner import HyperparameterTuner


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    """A folder that looks like a Hugging Face model (only what is checked before a job)."""
    folder = tmp_path / "tiny-model"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "llama"}')
    return folder


def jsonl(path: Path, *rows: dict[str, object]) -> str:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return str(path)


@pytest.fixture
def sft_data(tmp_path: Path) -> str:
    return jsonl(
        tmp_path / "train.jsonl", *[{"prompt": f"q{i}", "completion": "a"} for i in range(3)]
    )


def no_jobs() -> bool:
    return TrainingJobService(Settings.from_env()).list_jobs() == []


def test_the_trainer_builds_a_job_of_the_technique_program(
    model_dir: Path, sft_data: str, tmp_path: Path
) -> None:
    trainer = SFTTrainer(
        model=str(model_dir),
        training_type=TrainingType.FULL,
        training_dataset=sft_data,
        validation_dataset=sft_data,
        model_package_group="my-models",
        mlflow_experiment_name="exp",
    )
    trainer.hyperparameters.epochs = 2
    built = trainer.to_model_trainer()
    assert built.algorithm_name == "sft"
    channels = {c.channel_name: c.data_source for c in built.input_data_config or []}
    assert channels == {"model": str(model_dir), "train": sft_data, "validation": sft_data}
    hp = built.hyperparameters
    assert isinstance(hp, dict)
    assert hp["epochs"] == "2" and hp["training_type"] == "full" and "lora_r" not in hp
    assert hp["base_model"] == "tiny-model" and hp["mlflow_experiment_name"] == "exp"
    assert hp["mlflow_tracking_uri"].startswith("sqlite:///")
    assert str(Settings.from_env().home) in hp["mlflow_tracking_uri"]
    _, registration = trainer._model_trainer()
    assert registration is not None
    assert registration["Group"] == "my-models" and registration["TrainingType"] == "full"
    assert no_jobs()


def test_train_needs_a_training_dataset(model_dir: Path) -> None:
    with pytest.raises(ValueError, match="needs a training dataset"):
        SFTTrainer(model=str(model_dir)).train()
    assert no_jobs()


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([], "is empty"),
        ([{"prompt": "a", "completion": "b"}] * 6 + ["{bad"], "line 7: not valid JSON"),
        ([{"prompt": "a"}], "line 1: missing field 'completion'"),
    ],
)
def test_bad_datasets_fail_before_any_job(
    model_dir: Path, tmp_path: Path, rows: list[object], message: str
) -> None:
    file = tmp_path / "train.jsonl"
    file.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    trainer = SFTTrainer(model=str(model_dir), training_dataset=str(file))
    with pytest.raises(ValueError, match=message):
        trainer.train()
    assert no_jobs()


def test_dpo_refuses_pairs_without_a_preference(model_dir: Path, tmp_path: Path) -> None:
    data = jsonl(tmp_path / "pairs.jsonl", *[{"prompt": "p", "chosen": "x", "rejected": "x"}] * 3)
    with pytest.raises(ValueError, match="'chosen' equals 'rejected' on every line"):
        DPOTrainer(model=str(model_dir), training_dataset=data).train()
    assert no_jobs()


def test_gated_models_need_accept_eula_and_name_their_licence() -> None:
    with pytest.raises(ValueError, match=r"(?i)llama.*licen[cs]e.*accept_eula=True"):
        SFTTrainer(model="meta-llama/Llama-2-7b-hf")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"training_type": "half"}, "training_type must be TrainingType.LORA or"),
        ({"model_package_group": "bad name"}, "not a valid name"),
        (
            {"mlflow_resource_arn": "arn:aws:sagemaker:us-west-2:1:mlflow-tracking-server/x"},
            "cannot reach",
        ),
    ],
)
def test_bad_constructor_arguments(model_dir: Path, kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SFTTrainer(model=str(model_dir), **kwargs)  # type: ignore[arg-type]


def test_unknown_model_says_where_it_looked(tmp_path: Path, sft_data: str) -> None:
    trainer = SFTTrainer(model="no-such-org/no-such-model", training_dataset=sft_data)
    with pytest.raises(ValueError, match="no-such-org/no-such-model"):
        trainer.train()
    assert no_jobs()


def test_from_recipe_reads_sections_and_overrides(model_dir: Path, sft_data: str) -> None:
    trainer = ModelTrainer.from_recipe(
        "fine-tuning/smollm2/smollm2_135m_dpo_lora",
        recipe_overrides={"model": {"name_or_path": str(model_dir)}, "trainer.max_steps": 7},
    )
    assert trainer.algorithm_name == "dpo"
    hp = trainer.hyperparameters
    assert isinstance(hp, dict)
    assert hp["max_steps"] == "7" and hp["beta"] == "0.1" and hp["lora_r"] == "8"
    assert hp["target_modules"] == '["q_proj", "k_proj", "v_proj", "o_proj"]'
    assert trainer.base_job_name == "smollm2-135m-dpo-lora"
    resolved = trainer.get_resolved_recipe()  # the real SDK's: overrides merged in
    assert resolved["trainer"]["max_steps"] == 7
    assert resolved["model"]["name_or_path"] == str(model_dir)
    resolved["trainer"]["max_steps"] = 1
    assert trainer.get_resolved_recipe()["trainer"]["max_steps"] == 7  # a copy each time


def test_from_recipe_file_with_hyperpod_layout_and_full_training(
    model_dir: Path, sft_data: str, tmp_path: Path
) -> None:
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(
        f"model:\n  hf_model_name_or_path: {model_dir}\n  peft:\n    peft_type: null\n"
        f"  data:\n    train_dir: {sft_data}\ntrainer:\n  max_epochs: 2\n  lr: 0.001\n"
        "  devices: 8\n"
    )
    trainer = ModelTrainer.from_recipe(str(recipe))
    hp = trainer.hyperparameters
    assert isinstance(hp, dict)
    assert (hp["epochs"], hp["learning_rate"], hp["training_type"]) == ("2", "0.001", "full")
    assert {c.channel_name for c in trainer.input_data_config or []} == {"model", "train"}


@pytest.mark.parametrize(
    ("recipe", "overrides", "message"),
    [
        ("no/such/recipe", {}, "neither a YAML file nor a shipped recipe"),
        (
            "fine-tuning/smollm2/smollm2_135m_sft_lora",
            {"trainer.epochs": 0},
            "In the recipe: epochs",
        ),
        ("fine-tuning/smollm2/smollm2_135m_sft_lora", {"trainer.colour": 1}, "'colour'"),
        ("fine-tuning/smollm2/smollm2_135m_sft_lora", {"extra": {}}, "unknown sections"),
        (
            "fine-tuning/smollm2/smollm2_135m_sft_lora",
            {"model.technique": "ppo"},
            "'sft', 'dpo', 'rlvr' or 'rlaif'",
        ),
    ],
)
def test_bad_recipes_fail_clearly(recipe: str, overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ModelTrainer.from_recipe(recipe, recipe_overrides=overrides)


def test_a_recipe_trainer_checks_the_data_given_to_train(model_dir: Path, tmp_path: Path) -> None:
    from sageyard.train.configs import InputData

    trainer = ModelTrainer.from_recipe(
        "fine-tuning/smollm2/smollm2_135m_sft_lora",
        recipe_overrides={"model.name_or_path": str(model_dir)},
    )
    bad = jsonl(tmp_path / "bad.jsonl", {"prompt": "only"})
    with pytest.raises(ValueError, match="needs a training dataset"):
        trainer.train()
    with pytest.raises(ValueError, match="missing field 'completion'"):
        trainer.train(input_data_config=[InputData(channel_name="training", data_source=bad)])
    assert no_jobs()


def test_from_jumpstart_config_checks_catalog_and_eula() -> None:
    with pytest.raises(ValueError, match="not in sageyard's model catalog"):
        ModelTrainer.from_jumpstart_config(JumpStartConfig(model_id="acme/unknown"))
    with pytest.raises(ValueError, match="accept_eula"):
        ModelTrainer.from_jumpstart_config(JumpStartConfig(model_id="meta-llama/Llama-2-7b-hf"))


def test_a_tuner_takes_a_fine_tuning_trainer(model_dir: Path, sft_data: str) -> None:
    sft = SFTTrainer(model=str(model_dir), training_dataset=sft_data, validation_dataset=sft_data)
    tuner = HyperparameterTuner(
        model_trainer=sft,
        objective_metric_name="validation:loss",
        objective_type="Minimize",
        hyperparameter_ranges={"learning_rate": ContinuousParameter(1e-5, 1e-3, "Logarithmic")},
        max_jobs=2,
    )
    assert isinstance(tuner.model_trainer, ModelTrainer)
    assert tuner.model_trainer.algorithm_name == "sft"


def test_a_model_artifact_uri_must_exist_and_travels_as_the_model_channel(
    tmp_path: Path, sft_data: str
) -> None:
    from sageyard.core.session import Session

    missing = SFTTrainer(model="s3://models/none/model.tar.gz", training_dataset=sft_data)
    with pytest.raises(ValueError, match=r"model\.tar\.gz does not exist"):
        missing.train()
    archive = tmp_path / "model.tar.gz"
    archive.write_bytes(b"not checked before the job")
    session = Session()
    uri = session.upload_data(str(archive), bucket="models", key_prefix="job-1/output")
    trainer = SFTTrainer(model=uri, training_dataset=sft_data).to_model_trainer()
    channels = {c.channel_name: c.data_source for c in trainer.input_data_config or []}
    assert channels["model"] == uri and uri.endswith("model.tar.gz")
    assert no_jobs()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://mlflow.internal:5000", "http://mlflow.internal:5000"),
        ("sqlite:////data/mlflow.db", "sqlite:////data/mlflow.db"),
        ("/data/mlruns", "file:///data/mlruns"),
    ],
)
def test_mlflow_resource_arn_is_the_tracking_uri(
    model_dir: Path, sft_data: str, given: str, expected: str
) -> None:
    trainer = SFTTrainer(model=str(model_dir), training_dataset=sft_data, mlflow_resource_arn=given)
    hp = trainer.to_model_trainer().hyperparameters
    assert isinstance(hp, dict)
    assert hp["mlflow_tracking_uri"] == expected
    assert hp["mlflow_experiment_name"] == "tiny-model-sft"  # named after model and technique
