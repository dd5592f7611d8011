"""The fine-tuning trainers as a user runs them: real jobs on a tiny model built here.

(The programs' own behaviour — LoRA/full outputs, resume, bad rows — is covered in
test_finetune_programs.py; these tests cover what the facade adds: the model reference,
the registry, MLflow, recipes and tuning.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sageyard.core.parameter import ContinuousParameter
from sageyard.core.resources import ModelPackage, TrainingJob
from sageyard.core.settings import Settings
from sageyard.jobs.service import TrainingJobService
from sageyard.models.registry import ModelRegistry
from sageyard.train import ModelTrainer
from sageyard.train.dpo_trainer import DPOTrainer
from sageyard.train.sft_trainer import SFTTrainer
from sageyard.train.tuner import HyperparameterTuner
from tests.llm import make_tiny_model, write_jsonl

FRUITS = ["apple", "banana", "cherry", "grape", "lemon", "mango", "melon", "peach"]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_model(tmp_path_factory.mktemp("models") / "tiny")


@pytest.fixture
def sft_data(tmp_path: Path) -> tuple[str, str]:
    rows = [{"prompt": f"Q: {f} question", "completion": "yes answer"} for f in FRUITS * 4]
    train = write_jsonl(tmp_path / "train.jsonl", rows)
    validation = write_jsonl(tmp_path / "validation.jsonl", rows[:8])
    return str(train), str(validation)


@pytest.fixture
def dpo_data(tmp_path: Path) -> tuple[str, str]:
    rows = [
        {"prompt": f"Q: {f} question", "chosen": "yes answer", "rejected": "no answer"}
        for f in FRUITS * 2
    ]
    train = write_jsonl(tmp_path / "pairs.jsonl", rows)
    validation = write_jsonl(tmp_path / "pairs-validation.jsonl", rows[:8])
    return str(train), str(validation)


def quick(trainer: SFTTrainer | DPOTrainer, steps: int = 12) -> None:
    hp = trainer.hyperparameters
    hp.max_steps = steps
    hp.learning_rate = 5e-3
    hp.per_device_train_batch_size = 4
    hp.logging_steps = 3
    hp.eval_steps = steps
    hp.max_seq_length = 64


def loss_series(job: TrainingJob, name: str) -> list[float]:
    return [m.value for m in job.metrics(name)]


def test_sft_registers_a_version_and_a_second_fine_tune_continues_from_it(
    tiny_model: Path, sft_data: tuple[str, str]
) -> None:
    train, validation = sft_data
    trainer = SFTTrainer(
        model=str(tiny_model),
        model_package_group="tiny-models",
        training_dataset=train,
        validation_dataset=validation,
    )
    quick(trainer)
    job = trainer.train(wait=True)
    assert job.training_job_status == "Completed", job.failure_reason
    assert trainer._latest_training_job is job
    losses = loss_series(job, "train:loss")
    assert len(losses) >= 3 and losses[-1] < losses[0]
    final = {m.metric_name for m in job.final_metric_data_list}
    assert {"train:loss", "validation:loss", "train:learning_rate"} <= final
    assert job.hyper_parameters["training_type"] == "lora"

    assert job.output_model_package_arn is not None
    assert job.output_model_package_arn.endswith("model-package/tiny-models/1")
    package = ModelPackage.get("tiny-models/1")
    assert package.model_artifact_uri == str(job.model_artifacts)
    assert (package.base_model, package.customization_technique) == ("tiny", "sft")
    assert package.dataset_uris == {"train": train, "validation": validation}
    assert "train:loss" in package.final_metrics

    # continue from the registered model: by the package object, then by its name
    again = SFTTrainer(model=package, model_package_group="tiny-models", training_dataset=train)
    quick(again, steps=3)
    second = again.train()
    assert second.training_job_status == "Completed", second.failure_reason
    assert ModelPackage.get("tiny-models").model_package_version == 2
    assert ModelPackage.get("tiny-models").base_model == "tiny"
    by_name = SFTTrainer(model="tiny-models/2", training_dataset=train).to_model_trainer()
    sources = {c.channel_name: c.data_source for c in by_name.input_data_config or []}
    assert sources["model"] == str(second.model_artifacts)


def test_wait_false_returns_at_once_and_the_supervisor_still_registers(
    tiny_model: Path, sft_data: tuple[str, str]
) -> None:
    trainer = SFTTrainer(
        model=str(tiny_model),
        training_type="full",
        model_package_group="later",
        training_dataset=sft_data[0],
    )
    quick(trainer, steps=3)
    job = trainer.train(wait=False)
    assert job.training_job_status in ("InProgress", "Completed")
    job.wait(logs=False)
    assert job.training_job_status == "Completed", job.failure_reason
    [package] = ModelRegistry(Settings.from_env()).list_packages("later")
    assert package.training_type == "full" and package.training_job_name == job.training_job_name


def test_dpo_raises_the_reward_margin(tiny_model: Path, dpo_data: tuple[str, str]) -> None:
    train, validation = dpo_data
    trainer = DPOTrainer(
        model=str(tiny_model), training_dataset=train, validation_dataset=validation
    )
    quick(trainer, steps=8)
    trainer.hyperparameters.beta = 0.5
    job = trainer.train()
    assert job.training_job_status == "Completed", job.failure_reason
    margins = loss_series(job, "validation:reward_margin")
    assert margins and margins[-1] > 0
    assert job.hyper_parameters["beta"] == "0.5"


def test_mlflow_run_named_without_a_server_goes_to_a_local_store(
    tiny_model: Path, sft_data: tuple[str, str]
) -> None:
    trainer = SFTTrainer(
        model=str(tiny_model),
        training_dataset=sft_data[0],
        mlflow_experiment_name="tiny-experiments",
        mlflow_run_name="first-run",
    )
    quick(trainer, steps=3)
    job = trainer.train()
    assert job.training_job_status == "Completed", job.failure_reason

    import mlflow

    uri = job.hyper_parameters["mlflow_tracking_uri"]
    assert uri.startswith("sqlite:///") and str(Settings.from_env().home) in uri
    client = mlflow.MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("tiny-experiments")
    assert experiment is not None
    [run] = client.search_runs([experiment.experiment_id])
    assert run.info.run_name == "first-run"
    assert run.data.params["learning_rate"] == "0.005"
    assert "train:loss" in run.data.metrics
    artifacts = [a.path for a in client.list_artifacts(run.info.run_id)]
    assert "adapter" in artifacts


def test_a_recipe_runs_with_data_given_to_train(
    tiny_model: Path, sft_data: tuple[str, str]
) -> None:
    from sageyard.train.configs import InputData

    trainer = ModelTrainer.from_recipe(
        "fine-tuning/smollm2/smollm2_135m_sft_lora",
        recipe_overrides={
            "model": {"name_or_path": str(tiny_model)},
            "trainer": {"max_steps": 3, "per_device_train_batch_size": 4, "max_seq_length": 64},
        },
    )
    trainer.train(input_data_config=[InputData(channel_name="training", data_source=sft_data[0])])
    job = trainer._latest_training_job
    assert job is not None and job.training_job_status == "Completed", job.failure_reason
    assert job.hyper_parameters["max_steps"] == "3"
    channels = job.describe()["InputDataConfig"]
    assert {c["ChannelName"] for c in channels} == {"model", "training"}


def test_a_tuner_runs_fine_tuning_trials(tiny_model: Path, sft_data: tuple[str, str]) -> None:
    train, validation = sft_data
    sft = SFTTrainer(model=str(tiny_model), training_dataset=train, validation_dataset=validation)
    quick(sft, steps=4)
    tuner = HyperparameterTuner(
        model_trainer=sft,
        objective_metric_name="validation:loss",
        objective_type="Minimize",
        hyperparameter_ranges={"learning_rate": ContinuousParameter(1e-4, 1e-2, "Logarithmic")},
        strategy="Random",
        max_jobs=2,
        max_parallel_jobs=2,
    )
    tuner.tune(wait=True)
    description = tuner.latest_tuning_job.describe()  # type: ignore[union-attr]
    assert description["HyperParameterTuningJobStatus"] == "Completed"
    best = description["BestTrainingJob"]
    assert best["FinalHyperParameterTuningJobObjectiveMetric"]["MetricName"] == "validation:loss"
    trials = TrainingJobService(Settings.from_env()).list_jobs()
    assert len(trials) == 2
    assert {t.document["spec"]["algorithm_name"] for t in trials} <= {"sft"}
