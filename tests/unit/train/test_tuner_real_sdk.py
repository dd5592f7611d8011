"""HyperparameterTuner has the real tuner's public surface: its constant, its attributes from
``__init__`` and ``_prepare_for_tuning``, and ``hyperparameter_ranges_dict``.

``REAL_PUBLIC`` is ``dir()`` of a real ``sagemaker.train.tuner.HyperparameterTuner`` (SDK
3.27.0) built with an equivalent ModelTrainer, less the dunder names. ``tune()`` is captured
at the service (no process runs here).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from sageyard.core.parameter import CategoricalParameter, ContinuousParameter, IntegerParameter
from sageyard.core.shapes import HyperParameterTuningInstanceConfig
from sageyard.train import ModelTrainer
from sageyard.train.configs import SourceCode
from sageyard.train.tuner import HyperparameterTuner
from sageyard.tuning.service import TuningJobService
from sageyard.tuning.spec import TuningJobSpec

REAL_PUBLIC = {
    "TUNING_JOB_NAME_MAX_LENGTH", "analytics", "auto_parameters", "auto_parameters_dict",
    "autotune", "base_tuning_job_name", "best_training_job", "completion_criteria_config",
    "create", "describe", "early_stopping_type", "hyperparameter_ranges",
    "hyperparameter_ranges_dict", "hyperparameters_to_keep_static",
    "hyperparameters_to_keep_static_dict", "instance_configs", "instance_configs_dict",
    "latest_tuning_job", "max_jobs", "max_parallel_jobs", "max_runtime_in_seconds",
    "metric_definitions", "metric_definitions_dict", "model_trainer", "model_trainer_dict",
    "objective_metric_name", "objective_metric_name_dict", "objective_type",
    "override_resource_config", "random_seed", "sagemaker_session", "static_hyperparameters",
    "static_hyperparameters_dict", "stop_tuning_job", "strategy", "strategy_config", "tags",
    "transfer_learning_tuner", "tune", "wait", "warm_start_config",
}  # fmt: skip
METRICS = [{"Name": "acc", "Regex": "acc=([0-9.]+)"}]
LR = {"lr": ContinuousParameter(0.001, 0.1)}


@pytest.fixture
def trainer(tmp_path: Path) -> Callable[..., ModelTrainer]:
    (tmp_path / "train.py").write_text("print('acc=1.0')\n")

    def make(**hyperparameters: Any) -> ModelTrainer:
        return ModelTrainer(
            training_image="python:3.11",
            source_code=SourceCode(source_dir=str(tmp_path), entry_script="train.py"),
            hyperparameters=hyperparameters or {"epochs": 3, "lr": 0.1},
        )

    return make


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> list[TuningJobSpec]:
    specs: list[TuningJobSpec] = []

    def create(self: TuningJobService, spec: TuningJobSpec, **kwargs: Any) -> Any:
        specs.append(spec)
        return SimpleNamespace(name=spec.tuning_job_name)

    monkeypatch.setattr(TuningJobService, "create", create)
    return specs


def single(trainer: ModelTrainer, **kwargs: Any) -> HyperparameterTuner:
    kwargs.setdefault("hyperparameter_ranges", dict(LR))
    return HyperparameterTuner(trainer, "acc", metric_definitions=METRICS, **kwargs)


def multi(trainer: Callable[..., ModelTrainer]) -> HyperparameterTuner:
    return HyperparameterTuner.create(
        model_trainer_dict={"b": trainer(depth=2, epochs=5), "a": trainer()},
        objective_metric_name_dict={"a": "acc", "b": "acc"},
        hyperparameter_ranges_dict={
            "b": {"depth": IntegerParameter(1, 5)},
            "a": {"opt": CategoricalParameter(["adam", "sgd"]), **LR},
        },
        metric_definitions_dict={"a": METRICS, "b": METRICS},
        max_jobs=2,
    )


def test_every_public_name_of_the_real_tuner(trainer: Callable[..., ModelTrainer]) -> None:
    tuner = single(trainer())
    assert sorted(REAL_PUBLIC - set(dir(tuner))) == []
    assert HyperparameterTuner.TUNING_JOB_NAME_MAX_LENGTH == 32
    # what the real __init__ leaves for _prepare_for_tuning and override_resource_config
    for name in (
        "static_hyperparameters",
        "static_hyperparameters_dict",
        "auto_parameters",
        "auto_parameters_dict",
        "instance_configs",
        "instance_configs_dict",
        "model_trainer_dict",
        "objective_metric_name_dict",
        "metric_definitions_dict",
        "hyperparameters_to_keep_static_dict",
        "latest_tuning_job",
    ):
        assert getattr(tuner, name) is None, name


def test_defaults_as_the_real_init(trainer: Callable[..., ModelTrainer]) -> None:
    tuner = single(trainer(), tags={"team": "ml"})
    assert tuner.max_jobs == 1  # the real default, except for Grid
    assert tuner.tags == [{"Key": "team", "Value": "ml"}]  # format_tags
    grid = single(
        trainer(), strategy="Grid", hyperparameter_ranges={"o": CategoricalParameter([1])}
    )
    assert grid.max_jobs is None


def test_hyperparameter_ranges_dict_as_the_real_one(
    trainer: Callable[..., ModelTrainer],
) -> None:
    tuner = multi(trainer)
    assert tuner.hyperparameter_ranges() is None
    ranges = tuner.hyperparameter_ranges_dict()
    assert ranges is not None and list(ranges) == ["a", "b"]  # sorted by trainer name
    assert ranges["a"] == {
        "ContinuousParameterRanges": [
            {"name": "lr", "min_value": "0.001", "max_value": "0.1", "scaling_type": "Auto"}
        ],
        "CategoricalParameterRanges": [{"name": "opt", "values": ["adam", "sgd"]}],
        "IntegerParameterRanges": [],
    }
    assert ranges["b"]["IntegerParameterRanges"] == [
        {"name": "depth", "min_value": "1", "max_value": "5", "scaling_type": "Auto"}
    ]


def test_a_named_trainer_is_one_of_the_dicts(
    trainer: Callable[..., ModelTrainer], captured: list[TuningJobSpec]
) -> None:
    model_trainer = trainer()
    tuner = single(model_trainer, model_trainer_name="main", max_jobs=2)
    assert tuner.model_trainer is None and tuner.objective_metric_name is None
    assert tuner.model_trainer_dict == {"main": model_trainer}
    assert tuner.objective_metric_name_dict == {"main": "acc"}
    assert tuner.metric_definitions_dict == {"main": METRICS}
    assert tuner.hyperparameter_ranges() is None
    ranges = tuner.hyperparameter_ranges_dict()
    assert ranges is not None and list(ranges) == ["main"]
    assert tuner.sagemaker_session is model_trainer._session()
    tuner.tune(wait=False)
    (definition,) = captured[0].definitions
    assert definition.name == "main"
    assert tuner.static_hyperparameters_dict == {"main": {"epochs": "3"}}
    with pytest.raises(ValueError, match="model_trainer is None"):
        HyperparameterTuner(None, "acc", dict(LR), model_trainer_name="main")


def test_tune_sets_the_static_and_auto_parameters(
    trainer: Callable[..., ModelTrainer], captured: list[TuningJobSpec]
) -> None:
    tuner = single(trainer(), max_jobs=2)
    tuner.tune(wait=False)
    assert tuner.static_hyperparameters == {"epochs": "3"}  # lr is tuned
    assert (tuner.auto_parameters, tuner.static_hyperparameters_dict) == (None, None)

    auto = single(
        trainer(learning_rate=0.01, epochs=3, batch_size=32),
        hyperparameter_ranges={},
        autotune=True,
        hyperparameters_to_keep_static=["epochs"],
        max_jobs=2,
    )
    auto.tune(wait=False)
    assert auto.static_hyperparameters == {"epochs": "3"}
    assert auto.auto_parameters == {"learning_rate": "0.01", "batch_size": "32"}

    both = multi(trainer)
    both.tune(wait=False)
    assert both.static_hyperparameters is None
    assert both.static_hyperparameters_dict == {
        "a": {"epochs": "3"},
        "b": {"epochs": "5"},
    }
    assert both.auto_parameters_dict == {"a": None, "b": None}


def test_override_resource_config_sets_the_real_attributes(
    trainer: Callable[..., ModelTrainer],
) -> None:
    config = HyperParameterTuningInstanceConfig(
        instance_type="ml.m5.large", instance_count=1, volume_size_in_gb=30
    )
    tuner = single(trainer())
    tuner.override_resource_config([config])
    assert (tuner.instance_configs, tuner.instance_configs_dict) == ([config], None)
    both = multi(trainer)
    both.override_resource_config({"b": [config]})
    assert (both.instance_configs, both.instance_configs_dict) == (None, {"b": [config]})
