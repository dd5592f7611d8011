"""HyperparameterTuner refuses a bad request before anything is written, saying what was given.

Every refused ``tune()`` leaves no tuning job, no training job and no job folder behind. The
accepted requests are checked on the spec that ``tune()`` hands to the tuning-job service,
captured instead of started (no process runs in this file).
"""

from __future__ import annotations

import inspect
import re
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sageyard.core.parameter import (
    CategoricalParameter,
    ContinuousParameter,
    IntegerParameter,
    ParameterRange,
)
from sageyard.core.settings import Settings
from sageyard.core.shapes import (
    HyperbandStrategyConfig,
    HyperParameterTuningInstanceConfig,
    HyperParameterTuningJobStrategyConfig,
    HyperParameterTuningJobWarmStartConfig,
    InputData,
    ParentHyperParameterTuningJob,
)
from sageyard.jobs.service import TrainingJobService
from sageyard.store import JobRecord
from sageyard.train import ModelTrainer
from sageyard.train.configs import MetricDefinition, SourceCode
from sageyard.train.tuner import HyperparameterTuner, WarmStartTypes
from sageyard.tuning import search
from sageyard.tuning.resource import HyperParameterTuningJob
from sageyard.tuning.service import TuningJobService
from sageyard.tuning.spec import KIND, TuningJobSpec

IMAGE = "python:3.11"
METRICS = [{"Name": "score", "Regex": "score=([0-9.]+)"}]
LR = {"lr": ContinuousParameter(0.001, 0.1)}
GRID = {"a": CategoricalParameter([1, 2]), "b": CategoricalParameter(["x", "y", "z"])}
HYPERBAND = HyperParameterTuningJobStrategyConfig(
    hyperband_strategy_config=HyperbandStrategyConfig(min_resource=1, max_resource=9)
)


@pytest.fixture
def code_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "code"
    folder.mkdir()
    (folder / "train.py").write_text("print('score=1.0')\n")
    return folder


@pytest.fixture
def make_trainer(code_dir: Path) -> Callable[..., ModelTrainer]:
    def make(**kwargs: Any) -> ModelTrainer:
        kwargs.setdefault("training_image", IMAGE)
        kwargs.setdefault(
            "source_code", SourceCode(source_dir=str(code_dir), entry_script="train.py")
        )
        return ModelTrainer(**kwargs)

    return make


@pytest.fixture
def make_tuner(make_trainer: Callable[..., ModelTrainer]) -> Callable[..., HyperparameterTuner]:
    """A valid tuner; keyword arguments override the tuner's (``trainer=`` its trainer)."""

    def make(trainer: ModelTrainer | None = None, **kwargs: Any) -> HyperparameterTuner:
        values: dict[str, Any] = {
            "model_trainer": trainer or make_trainer(),
            "objective_metric_name": "score",
            "hyperparameter_ranges": dict(LR),
            "metric_definitions": METRICS,
            "max_jobs": 4,
            "max_parallel_jobs": 2,
        }
        values.update(kwargs)
        return HyperparameterTuner(**values)

    return make


def assert_nothing_written(home: Path) -> None:
    settings = Settings.from_env()
    assert TuningJobService(settings).list_jobs() == []
    assert TrainingJobService(settings).list_jobs() == []
    assert not (home / "jobs").exists()


def refused(home: Path, match: str, attempt: Callable[[], Any]) -> ValueError:
    """``attempt()`` (build a tuner and tune it) raises a ValueError containing ``match``,
    and nothing is written."""
    with pytest.raises(ValueError, match=re.escape(match)) as excinfo:
        attempt()
    assert_nothing_written(home)
    return excinfo.value


def tune(build: Callable[[], HyperparameterTuner], **kwargs: Any) -> Callable[[], None]:
    def attempt() -> None:
        build().tune(wait=False, **kwargs)

    return attempt


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> list[TuningJobSpec]:
    """The specs ``tune()`` hands to the service; no tuning job is created or started."""
    specs: list[TuningJobSpec] = []

    def create(self: TuningJobService, spec: TuningJobSpec, **kwargs: Any) -> Any:
        specs.append(spec)
        return SimpleNamespace(name=spec.tuning_job_name)

    monkeypatch.setattr(TuningJobService, "create", create)
    return specs


# -- the objective and its metric definitions -------------------------------------------------


def test_the_objective_needs_a_metric_definition(
    sageyard_home: Path, make_tuner: Callable[..., HyperparameterTuner]
) -> None:
    error = refused(
        sageyard_home,
        "The objective metric 'score' has no metric definition",
        tune(lambda: make_tuner(metric_definitions=[{"Name": "loss", "Regex": "loss=(.*)"}])),
    )
    assert "known: ['loss']" in str(error)
    refused(sageyard_home, "'score'", tune(lambda: make_tuner(metric_definitions=None)))


def test_a_metric_definition_on_the_trainer_is_enough(
    make_trainer: Callable[..., ModelTrainer],
    make_tuner: Callable[..., HyperparameterTuner],
    captured: list[TuningJobSpec],
) -> None:
    trainer = make_trainer().with_metric_definitions(
        [MetricDefinition(name="score", regex="score=([0-9.]+)")]
    )
    make_tuner(trainer, metric_definitions=None).tune(wait=False)
    (definition,) = captured[0].definitions
    assert [d.name for d in definition.template.metric_definitions] == ["score"]


@pytest.mark.parametrize(
    "entry", [{"Name": "score"}, {"Name": "score", "Regex": "x", "Extra": 1}, "score=(.*)"], ids=str
)
def test_malformed_metric_definitions(
    sageyard_home: Path, make_tuner: Callable[..., HyperparameterTuner], entry: Any
) -> None:
    refused(
        sageyard_home,
        f"metric_definitions entries are dicts with 'Name' and 'Regex', but got {entry!r}",
        tune(lambda: make_tuner(metric_definitions=[entry])),
    )


def test_the_objective_metric_name_is_required(make_trainer: Callable[..., ModelTrainer]) -> None:
    with pytest.raises(ValueError, match="objective_metric_name is required"):
        HyperparameterTuner(make_trainer(), "", LR, metric_definitions=METRICS, max_jobs=2)


def test_model_trainer_must_be_a_model_trainer() -> None:
    with pytest.raises(ValueError, match="model_trainer must be a ModelTrainer, but got"):
        HyperparameterTuner("trainer", "score", LR, max_jobs=2)  # type: ignore[arg-type]


# -- ranges -------------------------------------------------------------------------------------


def test_a_tuned_hyperparameter_is_no_longer_static(
    make_trainer: Callable[..., ModelTrainer],
    make_tuner: Callable[..., HyperparameterTuner],
    captured: list[TuningJobSpec],
) -> None:
    """As the real tuner: the trainer's value of a tuned hyperparameter is left out of the
    static ones (the service refuses a raw request that has both)."""
    trainer = make_trainer(hyperparameters={"lr": 0.01, "epochs": 3})
    make_tuner(trainer).tune(wait=False)
    (definition,) = captured[0].definitions
    assert "lr" not in definition.static_hyperparameters
    assert definition.static_hyperparameters["epochs"] == "3"


def test_bounds_with_min_above_max(
    sageyard_home: Path, make_tuner: Callable[..., HyperparameterTuner]
) -> None:
    refused(
        sageyard_home,
        "(min_value=0.5, max_value=0.1)",
        tune(lambda: make_tuner(hyperparameter_ranges={"lr": ContinuousParameter(0.5, 0.1)})),
    )
    refused(
        sageyard_home,
        "(min_value=9, max_value=2)",
        tune(lambda: make_tuner(hyperparameter_ranges={"n": IntegerParameter(9, 2)})),
    )


def test_an_empty_categorical(
    sageyard_home: Path, make_tuner: Callable[..., HyperparameterTuner]
) -> None:
    refused(
        sageyard_home,
        "CategoricalParameter needs at least one value, but got an empty list",
        tune(lambda: make_tuner(hyperparameter_ranges={"opt": CategoricalParameter([])})),
    )


def test_empty_ranges_without_autotune(
    sageyard_home: Path, make_tuner: Callable[..., HyperparameterTuner]
) -> None:
    error = refused(
        sageyard_home,
        "hyperparameter_ranges is empty",
        tune(lambda: make_tuner(hyperparameter_ranges={})),
    )
    assert "autotune=True" in str(error)


def test_a_range_that_is_not_a_parameter_range(
    sageyard_home: Path, make_tuner: Callable[..., HyperparameterTuner]
) -> None:
    refused(
        sageyard_home,
        "hyperparameter_ranges['lr'] must be a ContinuousParameter, IntegerParameter or "
        "CategoricalParameter, but got (0.001, 0.1)",
        tune(lambda: make_tuner(hyperparameter_ranges={"lr": (0.001, 0.1)})),
    )


@pytest.mark.parametrize("name", ["_tuning_objective_metric", "sagemaker_program"])
def test_reserved_names_cannot_be_tuned(
    sageyard_home: Path, make_tuner: Callable[..., HyperparameterTuner], name: str
) -> None:
    ranges = {name: CategoricalParameter(["a", "b"])}
    refused(
        sageyard_home,
        f"['{name}'] are reserved names",
        tune(lambda: make_tuner(hyperparameter_ranges=ranges)),
    )


# -- strategy, objective type, early stopping -------------------------------------------------


def test_an_unknown_strategy(
    sageyard_home: Path, make_tuner: Callable[..., HyperparameterTuner]
) -> None:
    refused(
        sageyard_home,
        "strategy must be one of Bayesian, Random, Grid, Hyperband, but got 'Evolutionary'",
        tune(lambda: make_tuner(strategy="Evolutionary")),
    )


def test_an_unknown_objective_type(
    sageyard_home: Path, make_tuner: Callable[..., HyperparameterTuner]
) -> None:
    refused(
        sageyard_home,
        "objective_type must be 'Maximize' or 'Minimize', but got 'Max'",
        tune(lambda: make_tuner(objective_type="Max")),
    )


def test_an_unknown_early_stopping_type(
    sageyard_home: Path, make_tuner: Callable[..., HyperparameterTuner]
) -> None:
    refused(
        sageyard_home,
        "early_stopping_type must be 'Off' or 'Auto', but got 'On'",
        tune(lambda: make_tuner(early_stopping_type="On")),
    )


def test_max_parallel_jobs_above_max_jobs(
    sageyard_home: Path, make_tuner: Callable[..., HyperparameterTuner]
) -> None:
    refused(
        sageyard_home,
        "max_parallel_jobs (5) must not exceed max_jobs (3)",
        tune(lambda: make_tuner(max_jobs=3, max_parallel_jobs=5)),
    )


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("max_jobs", 0, "max_jobs must be >= 1, but got 0"),
        ("max_parallel_jobs", 0, "max_parallel_jobs must be >= 1, but got 0"),
        ("max_runtime_in_seconds", 0, "max_runtime_in_seconds must be between 1 and"),
        ("max_runtime_in_seconds", 10**9, f"but got {10**9}"),
    ],
)
def test_resource_limits(
    sageyard_home: Path,
    make_tuner: Callable[..., HyperparameterTuner],
    field: str,
    value: int,
    match: str,
) -> None:
    values = {"max_parallel_jobs": 1, field: value}
    refused(sageyard_home, match, tune(lambda: make_tuner(**values)))


def test_max_jobs_defaults_to_one_trial_unless_grid(
    make_tuner: Callable[..., HyperparameterTuner], captured: list[TuningJobSpec]
) -> None:
    """As the real tuner: one trial when max_jobs is unset; Grid counts its combinations."""
    for strategy in ("Bayesian", "Random"):
        tuner = make_tuner(strategy=strategy, max_jobs=None, max_parallel_jobs=1)
        assert tuner.max_jobs == 1
        tuner.tune(wait=False)
        assert captured[-1].max_jobs == 1
    grid = make_tuner(strategy="Grid", hyperparameter_ranges=dict(GRID), max_jobs=None)
    assert grid.max_jobs is None
    grid.tune(wait=False)
    assert captured[-1].max_jobs == 6


def test_hyperband_needs_early_stopping_off(
    sageyard_home: Path, make_tuner: Callable[..., HyperparameterTuner]
) -> None:
    refused(
        sageyard_home,
        "early_stopping_type must be 'Off', but got 'Auto'",
        tune(
            lambda: make_tuner(
                strategy="Hyperband", strategy_config=HYPERBAND, early_stopping_type="Auto"
            )
        ),
    )


@pytest.mark.parametrize(
    "config",
    [
        None,
        HyperParameterTuningJobStrategyConfig(),
        HyperParameterTuningJobStrategyConfig(
            hyperband_strategy_config=HyperbandStrategyConfig(min_resource=1)
        ),
    ],
    ids=["no-config", "no-hyperband-config", "no-max-resource"],
)
def test_hyperband_needs_a_max_resource(
    sageyard_home: Path,
    make_tuner: Callable[..., HyperparameterTuner],
    config: HyperParameterTuningJobStrategyConfig | None,
) -> None:
    error = refused(
        sageyard_home,
        "The Hyperband strategy needs strategy_config=",
        tune(lambda: make_tuner(strategy="Hyperband", strategy_config=config)),
    )
    assert "max_resource" in str(error)


def test_a_hyperband_config_needs_the_hyperband_strategy(
    sageyard_home: Path, make_tuner: Callable[..., HyperparameterTuner]
) -> None:
    refused(
        sageyard_home,
        "only for strategy='Hyperband', but the strategy is 'Random'",
        tune(lambda: make_tuner(strategy="Random", strategy_config=HYPERBAND)),
    )


def test_grid_with_numeric_ranges(
    sageyard_home: Path, make_tuner: Callable[..., HyperparameterTuner]
) -> None:
    ranges: dict[str, ParameterRange] = {
        **GRID,
        "lr": ContinuousParameter(0.01, 0.1),
        "n": IntegerParameter(1, 3),
    }
    error = refused(
        sageyard_home,
        "['lr', 'n']",
        tune(lambda: make_tuner(strategy="Grid", hyperparameter_ranges=ranges, max_jobs=None)),
    )
    assert "categorical ranges only" in str(error)


@pytest.mark.parametrize("max_jobs", [4, 7])
def test_grid_with_max_jobs_other_than_the_combinations(
    sageyard_home: Path, make_tuner: Callable[..., HyperparameterTuner], max_jobs: int
) -> None:
    refused(
        sageyard_home,
        f"max_jobs must be unset or 6, but got {max_jobs}",
        tune(lambda: make_tuner(strategy="Grid", hyperparameter_ranges=GRID, max_jobs=max_jobs)),
    )


def test_grid_with_more_parallel_jobs_than_combinations(
    sageyard_home: Path, make_tuner: Callable[..., HyperparameterTuner]
) -> None:
    refused(
        sageyard_home,
        "max_parallel_jobs (7) exceeds the 6 grid combinations",
        tune(
            lambda: make_tuner(
                strategy="Grid", hyperparameter_ranges=GRID, max_jobs=None, max_parallel_jobs=7
            )
        ),
    )


def test_grid_runs_every_combination_when_max_jobs_is_unset_or_equal(
    make_tuner: Callable[..., HyperparameterTuner], captured: list[TuningJobSpec]
) -> None:
    make_tuner(strategy="Grid", hyperparameter_ranges=GRID, max_jobs=None).tune(wait=False)
    make_tuner(strategy="Grid", hyperparameter_ranges=GRID, max_jobs=6).tune(wait=False)
    assert [spec.max_jobs for spec in captured] == [6, 6]
    limits = captured[0].request["HyperParameterTuningJobConfig"]["ResourceLimits"]
    assert limits["MaxNumberOfTrainingJobs"] == 6


# -- random seed and job name -------------------------------------------------------------------


@pytest.mark.parametrize("seed", [-1, 2_147_483_648])
def test_random_seed_out_of_range(
    sageyard_home: Path, make_tuner: Callable[..., HyperparameterTuner], seed: int
) -> None:
    refused(
        sageyard_home,
        f"random_seed must be between 0 and 2147483647, but got {seed}",
        tune(lambda: make_tuner(random_seed=seed)),
    )


@pytest.mark.parametrize("seed", [0, 2_147_483_647])
def test_random_seed_bounds_are_accepted(
    make_tuner: Callable[..., HyperparameterTuner], captured: list[TuningJobSpec], seed: int
) -> None:
    make_tuner(random_seed=seed).tune(wait=False)
    assert captured[0].random_seed == seed
    assert captured[0].request["HyperParameterTuningJobConfig"]["RandomSeed"] == seed


@pytest.mark.parametrize("name", ["bad_name", "-leading", "trailing-", "x" * 33, "a b", ""])
def test_a_bad_job_name(
    sageyard_home: Path, make_tuner: Callable[..., HyperparameterTuner], name: str
) -> None:
    refused(sageyard_home, f"but got {name!r}", tune(make_tuner, job_name=name))


def test_a_job_name_longer_than_32_characters_with_hyphens(
    sageyard_home: Path,
    make_tuner: Callable[..., HyperparameterTuner],
    captured: list[TuningJobSpec],
) -> None:
    name = "a" + "-" * 40 + "b"
    refused(sageyard_home, f"but got {name!r}", tune(make_tuner, job_name=name))


def test_a_good_job_name_is_used(
    make_tuner: Callable[..., HyperparameterTuner], captured: list[TuningJobSpec]
) -> None:
    tuner = make_tuner()
    tuner.tune(job_name="my-tuning-1", wait=False)
    assert captured[0].tuning_job_name == "my-tuning-1"
    assert tuner.latest_tuning_job is not None
    assert tuner.latest_tuning_job.name == "my-tuning-1"


# -- autotune -----------------------------------------------------------------------------------


def test_autotune_with_nothing_known(
    sageyard_home: Path,
    make_trainer: Callable[..., ModelTrainer],
    make_tuner: Callable[..., HyperparameterTuner],
) -> None:
    trainer = make_trainer(hyperparameters={"mystery": 1, "other": "x"})
    error = refused(
        sageyard_home,
        "autotune knows none of the trainer's hyperparameters (['mystery', 'other']",
        tune(lambda: make_tuner(trainer, hyperparameter_ranges={}, autotune=True)),
    )
    assert "batch_size" in str(error) and "epochs" in str(error)  # names it knows
    refused(
        sageyard_home,
        "none are set",
        tune(lambda: make_tuner(make_trainer(), hyperparameter_ranges={}, autotune=True)),
    )


def test_autotune_with_everything_kept_static(
    sageyard_home: Path,
    make_trainer: Callable[..., ModelTrainer],
    make_tuner: Callable[..., HyperparameterTuner],
) -> None:
    trainer = make_trainer(hyperparameters={"learning_rate": 0.01})
    refused(
        sageyard_home,
        "kept static: ['learning_rate']",
        tune(
            lambda: make_tuner(
                trainer,
                hyperparameter_ranges={},
                autotune=True,
                hyperparameters_to_keep_static=["learning_rate"],
            )
        ),
    )


def test_hyperparameters_to_keep_static_naming_unknown_hyperparameters(
    sageyard_home: Path,
    make_trainer: Callable[..., ModelTrainer],
    make_tuner: Callable[..., HyperparameterTuner],
) -> None:
    trainer = make_trainer(hyperparameters={"learning_rate": 0.01, "epochs": 3})
    error = refused(
        sageyard_home,
        "hyperparameters_to_keep_static names ['nope'], which the trainer does not set",
        tune(
            lambda: make_tuner(
                trainer,
                hyperparameter_ranges={},
                autotune=True,
                hyperparameters_to_keep_static=["epochs", "nope"],
            )
        ),
    )
    assert "['epochs', 'learning_rate']" in str(error)


@pytest.mark.parametrize("strategy", ["Grid", "Hyperband"])
def test_autotune_needs_bayesian_or_random(
    sageyard_home: Path,
    make_trainer: Callable[..., ModelTrainer],
    make_tuner: Callable[..., HyperparameterTuner],
    strategy: str,
) -> None:
    trainer = make_trainer(hyperparameters={"learning_rate": 0.01})
    refused(
        sageyard_home,
        f"strategy={strategy!r}",
        tune(
            lambda: make_tuner(
                trainer,
                hyperparameter_ranges={},
                autotune=True,
                strategy=strategy,
                strategy_config=HYPERBAND if strategy == "Hyperband" else None,
                max_jobs=None if strategy == "Grid" else 4,
            )
        ),
    )


def test_autotune_chooses_ranges_for_known_names_only(
    make_trainer: Callable[..., ModelTrainer],
    make_tuner: Callable[..., HyperparameterTuner],
    captured: list[TuningJobSpec],
) -> None:
    trainer = make_trainer(
        hyperparameters={"learning_rate": 0.01, "epochs": 3, "batch_size": 32, "mystery": 1}
    )
    make_tuner(
        trainer, hyperparameter_ranges={}, autotune=True, hyperparameters_to_keep_static=["epochs"]
    ).tune(wait=False)
    (definition,) = captured[0].definitions
    assert {r.name for r in definition.ranges} == {"learning_rate", "batch_size"}
    assert definition.static_hyperparameters == {"epochs": "3", "mystery": "1"}
    assert captured[0].request["Autotune"] == {"Mode": "Enabled"}


def test_hyperparameters_to_keep_static_without_autotune(
    sageyard_home: Path,
    make_trainer: Callable[..., ModelTrainer],
    make_tuner: Callable[..., HyperparameterTuner],
    captured: list[TuningJobSpec],
) -> None:
    trainer = make_trainer(hyperparameters={"epochs": 3})
    refused(
        sageyard_home,
        "hyperparameters_to_keep_static",
        tune(lambda: make_tuner(trainer, hyperparameters_to_keep_static=["epochs"])),
    )


def test_duplicate_names_in_hyperparameters_to_keep_static(
    sageyard_home: Path,
    make_trainer: Callable[..., ModelTrainer],
    make_tuner: Callable[..., HyperparameterTuner],
    captured: list[TuningJobSpec],
) -> None:
    trainer = make_trainer(hyperparameters={"learning_rate": 0.01, "epochs": 3})
    refused(
        sageyard_home,
        "['epochs', 'epochs']",
        tune(
            lambda: make_tuner(
                trainer,
                hyperparameter_ranges={},
                autotune=True,
                hyperparameters_to_keep_static=["epochs", "epochs"],
            )
        ),
    )


# -- multi-trainer create() ---------------------------------------------------------------------


@pytest.fixture
def two_trainers(make_trainer: Callable[..., ModelTrainer]) -> dict[str, ModelTrainer]:
    return {"a": make_trainer(), "b": make_trainer(hyperparameters={"epochs": 2})}


def create(trainers: dict[str, ModelTrainer], **kwargs: Any) -> HyperparameterTuner:
    values: dict[str, Any] = {
        "model_trainer_dict": trainers,
        "objective_metric_name_dict": {"a": "score", "b": "acc"},
        "hyperparameter_ranges_dict": {
            "a": {"lr": ContinuousParameter(0.001, 0.1)},
            "b": {"depth": IntegerParameter(1, 5)},
        },
        "metric_definitions_dict": {
            "a": METRICS,
            "b": [{"Name": "acc", "Regex": "acc=([0-9.]+)"}],
        },
        "max_jobs": 4,
        "max_parallel_jobs": 2,
    }
    values.update(kwargs)
    return HyperparameterTuner.create(**values)


@pytest.mark.parametrize("field", ["objective_metric_name_dict", "hyperparameter_ranges_dict"])
@pytest.mark.parametrize("keys", [["a"], ["a", "b", "c"], ["a", "x"]], ids=str)
def test_create_with_mismatched_keys(
    sageyard_home: Path, two_trainers: dict[str, ModelTrainer], field: str, keys: list[str]
) -> None:
    value = {key: "score" if field.startswith("objective") else dict(LR) for key in keys}
    refused(
        sageyard_home,
        f"{field} must have the same keys as model_trainer_dict (['a', 'b']), but has {keys}",
        lambda: create(two_trainers, **{field: value}).tune(wait=False),
    )


def test_create_needs_trainers(sageyard_home: Path) -> None:
    refused(
        sageyard_home,
        "model_trainer_dict must name at least one ModelTrainer",
        lambda: create({}, objective_metric_name_dict={}, hyperparameter_ranges_dict={}),
    )


def test_create_needs_model_trainers(
    sageyard_home: Path, two_trainers: dict[str, ModelTrainer]
) -> None:
    refused(
        sageyard_home,
        "model_trainer_dict['b'] must be a ModelTrainer, but got",
        lambda: create({"a": two_trainers["a"], "b": "trainer"}),  # type: ignore[dict-item]
    )


def test_create_checks_each_trainer(
    sageyard_home: Path, two_trainers: dict[str, ModelTrainer]
) -> None:
    refused(
        sageyard_home,
        "The objective metric 'acc' of trainer 'b' has no metric definition",
        lambda: create(two_trainers, metric_definitions_dict={"a": METRICS}).tune(wait=False),
    )
    refused(
        sageyard_home,
        "hyperparameter_ranges for trainer 'b' is empty",
        lambda: create(two_trainers, hyperparameter_ranges_dict={"a": dict(LR), "b": {}}).tune(
            wait=False
        ),
    )


def test_create_builds_one_definition_per_trainer(
    two_trainers: dict[str, ModelTrainer], captured: list[TuningJobSpec]
) -> None:
    tuner = create(two_trainers)
    tuner.tune(wait=False)
    spec = captured[0]
    assert [d.name for d in spec.definitions] == ["a", "b"]
    assert [d.objective_metric_name for d in spec.definitions] == ["score", "acc"]
    definitions = spec.request["TrainingJobDefinitions"]
    assert [d["DefinitionName"] for d in definitions] == ["a", "b"]
    assert definitions[1]["TuningObjective"] == {"Type": "Maximize", "MetricName": "acc"}
    assert definitions[1]["StaticHyperParameters"] == {
        "epochs": "2",
        "_tuning_objective_metric": "acc",
    }
    assert definitions[1]["HyperParameterRanges"]["IntegerParameterRanges"] == [
        {"Name": "depth", "MinValue": "1", "MaxValue": "5", "ScalingType": "Auto"}
    ]
    assert "TrainingJobDefinition" not in spec.request
    assert tuner.metric_definitions_dict["b"] == [{"Name": "acc", "Regex": "acc=([0-9.]+)"}]


def test_create_takes_the_reference_hyperparameters_to_keep_static_dict() -> None:
    assert (
        "hyperparameters_to_keep_static_dict"
        in inspect.signature(HyperparameterTuner.create).parameters
    )


def test_create_with_metric_definitions_for_an_unknown_trainer(
    sageyard_home: Path, two_trainers: dict[str, ModelTrainer], captured: list[TuningJobSpec]
) -> None:
    definitions = {
        "a": METRICS,
        "b": [{"Name": "acc", "Regex": "acc=([0-9.]+)"}],
        "typo": METRICS,
    }
    refused(
        sageyard_home,
        "'typo'",
        lambda: create(two_trainers, metric_definitions_dict=definitions).tune(wait=False),
    )


def test_create_tuner_takes_model_trainer_kwargs_per_trainer(
    two_trainers: dict[str, ModelTrainer], captured: list[TuningJobSpec]
) -> None:
    create(two_trainers).tune(wait=False, model_trainer_kwargs={"a": {"environment": {"WHO": "a"}}})
    a, b = captured[0].definitions
    assert a.template.environment.get("WHO") == "a"
    assert "WHO" not in b.template.environment


# -- warm start -------------------------------------------------------------------------------


def warm_start(*parents: str, kind: Any = WarmStartTypes.TRANSFER_LEARNING) -> Any:
    return HyperParameterTuningJobWarmStartConfig(
        parent_hyper_parameter_tuning_jobs=[
            ParentHyperParameterTuningJob(hyper_parameter_tuning_job_name=p) for p in parents
        ],
        warm_start_type=kind,
    )


def test_warm_start_from_a_parent_that_does_not_exist(
    sageyard_home: Path, make_tuner: Callable[..., HyperparameterTuner]
) -> None:
    with pytest.raises(ClientError) as excinfo:
        make_tuner(warm_start_config=warm_start("no-such-parent")).tune(wait=False)
    assert excinfo.value.response["Error"]["Code"] == "ResourceNotFound"
    assert "'no-such-parent'" in str(excinfo.value)
    assert_nothing_written(sageyard_home)


def test_warm_start_from_a_parent_still_running(
    sageyard_home: Path, make_tuner: Callable[..., HyperparameterTuner]
) -> None:
    service = TuningJobService(Settings.from_env())
    now = time.time()
    service.store.create(
        JobRecord(
            name="running-parent",
            kind=KIND,
            status="InProgress",
            secondary_status=None,
            parent=None,
            created_at=now,
            updated_at=now,
            heartbeat_at=now,
            owner=None,
            document={"spec": {}},
        )
    )
    with pytest.raises(ValueError, match="'running-parent' is still InProgress"):
        make_tuner(warm_start_config=warm_start("running-parent")).tune(wait=False)
    assert [r.name for r in service.list_jobs()] == ["running-parent"]
    assert TrainingJobService(Settings.from_env()).list_jobs() == []


def test_warm_start_tuners_copy_the_tuner_and_list_every_parent(
    make_trainer: Callable[..., ModelTrainer], make_tuner: Callable[..., HyperparameterTuner]
) -> None:
    tuner = make_tuner(random_seed=3)
    tuner.latest_tuning_job = HyperParameterTuningJob("parent-1")
    other = make_trainer(hyperparameters={"epochs": 5})
    child = tuner.transfer_learning_tuner(additional_parents={"p3", "p2"}, model_trainer=other)
    assert child is not tuner
    assert child.latest_tuning_job is None
    assert child.model_trainer is other
    assert child.random_seed == 3 and child.max_jobs == 4
    config = child.warm_start_config
    assert config is not None
    assert config.warm_start_type == "TransferLearning"
    assert [
        p.hyper_parameter_tuning_job_name for p in config.parent_hyper_parameter_tuning_jobs
    ] == [
        "parent-1",
        "p2",
        "p3",
    ]
    assert tuner.warm_start_config is None
    identical = tuner.identical_dataset_and_algorithm_tuner()
    assert identical.warm_start_config is not None
    assert identical.warm_start_config.warm_start_type == "IdenticalDataAndAlgorithm"
    assert identical.model_trainer is tuner.model_trainer


def test_warm_start_tuners_need_a_tuning_job(
    make_tuner: Callable[..., HyperparameterTuner],
) -> None:
    with pytest.raises(RuntimeError, match=r"call tune\(\) first"):
        make_tuner().transfer_learning_tuner()


# -- tune() arguments ---------------------------------------------------------------------------


def test_tune_refuses_unknown_arguments(
    sageyard_home: Path, make_tuner: Callable[..., HyperparameterTuner]
) -> None:
    refused(
        sageyard_home,
        "tune() got unexpected arguments ['epochs']",
        tune(make_tuner, epochs=3),
    )


def test_tune_refuses_bad_inputs(
    sageyard_home: Path, make_tuner: Callable[..., HyperparameterTuner]
) -> None:
    refused(sageyard_home, "but got int", tune(make_tuner, inputs=42))


def test_tune_refuses_an_unknown_model_trainer_field(
    sageyard_home: Path, make_tuner: Callable[..., HyperparameterTuner]
) -> None:
    refused(
        sageyard_home,
        "model_trainer_kwargs: ModelTrainer has no field 'nope'",
        tune(make_tuner, model_trainer_kwargs={"nope": 1}),
    )


def test_tune_refuses_inputs_that_do_not_exist(
    sageyard_home: Path, make_tuner: Callable[..., HyperparameterTuner], tmp_path: Path
) -> None:
    missing = str(tmp_path / "missing-data")
    refused(sageyard_home, "missing-data", tune(make_tuner, inputs=missing))


def test_tune_refuses_a_bad_trainer(
    sageyard_home: Path,
    make_trainer: Callable[..., ModelTrainer],
    make_tuner: Callable[..., HyperparameterTuner],
) -> None:
    trainer = make_trainer(source_code=None)
    refused(sageyard_home, "source_code", tune(lambda: make_tuner(trainer)))


def test_inputs_and_model_trainer_kwargs_reach_the_trials_template(
    make_trainer: Callable[..., ModelTrainer],
    make_tuner: Callable[..., HyperparameterTuner],
    captured: list[TuningJobSpec],
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.csv").write_text("1\n")
    trainer = make_trainer(environment={"KEEP": "1"})
    tuner = make_tuner(trainer)
    tuner.tune(inputs=str(data), model_trainer_kwargs={"environment": {"MY_VAR": "x"}}, wait=False)
    template = captured[0].definitions[0].template
    assert [(c.name, Path(c.source)) for c in template.channels] == [("training", data)]
    assert template.environment == {"MY_VAR": "x"}
    # the tuner's own trainer is left as it was
    assert tuner.model_trainer is trainer
    assert trainer.environment == {"KEEP": "1"} and trainer.input_data_config is None


def test_inputs_as_a_dict_or_list_of_channels(
    make_tuner: Callable[..., HyperparameterTuner],
    captured: list[TuningJobSpec],
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    make_tuner().tune(inputs={"train": str(data), "test": str(data)}, wait=False)
    make_tuner().tune(inputs=[InputData(channel_name="val", data_source=str(data))], wait=False)
    assert [c.name for c in captured[0].definitions[0].template.channels] == ["train", "test"]
    assert [c.name for c in captured[1].definitions[0].template.channels] == ["val"]


def test_the_request_has_the_reference_shape(
    make_trainer: Callable[..., ModelTrainer],
    make_tuner: Callable[..., HyperparameterTuner],
    captured: list[TuningJobSpec],
) -> None:
    trainer = make_trainer(hyperparameters={"epochs": 3})
    make_tuner(
        trainer,
        hyperparameter_ranges={
            "lr": ContinuousParameter(0.001, 0.1, "Logarithmic"),
            "opt": CategoricalParameter(["adam", "sgd"]),
        },
        objective_type="Minimize",
        early_stopping_type="Auto",
        max_runtime_in_seconds=600,
        tags=[{"Key": "team", "Value": "ml"}],
    ).tune(wait=False)
    request = captured[0].request
    config = request["HyperParameterTuningJobConfig"]
    assert config["Strategy"] == "Bayesian"
    assert config["HyperParameterTuningJobObjective"] == {"Type": "Minimize", "MetricName": "score"}
    assert config["ResourceLimits"] == {
        "MaxNumberOfTrainingJobs": 4,
        "MaxParallelTrainingJobs": 2,
        "MaxRuntimeInSeconds": 600,
    }
    assert config["TrainingJobEarlyStoppingType"] == "Auto"
    assert config["ParameterRanges"]["ContinuousParameterRanges"] == [
        {"Name": "lr", "MinValue": "0.001", "MaxValue": "0.1", "ScalingType": "Logarithmic"}
    ]
    assert config["ParameterRanges"]["CategoricalParameterRanges"] == [
        {"Name": "opt", "Values": ["adam", "sgd"]}
    ]
    definition = request["TrainingJobDefinition"]
    assert definition["StaticHyperParameters"] == {
        "epochs": "3",
        "_tuning_objective_metric": "score",
    }
    assert request["Tags"] == [{"Key": "team", "Value": "ml"}]
    # the trials' template holds the static hyperparameters only
    assert captured[0].definitions[0].static_hyperparameters == {"epochs": "3"}


def test_hyperparameter_ranges_in_the_api_form(
    make_tuner: Callable[..., HyperparameterTuner],
) -> None:
    tuner = make_tuner(
        hyperparameter_ranges={
            "lr": ContinuousParameter(0.001, 0.1),
            "n": IntegerParameter(1, 4),
            "opt": CategoricalParameter(["adam"]),
        }
    )
    # the real tuner's form: the kinds in its order, each range's keys in snake_case
    ranges = tuner.hyperparameter_ranges()
    assert ranges == {
        "ContinuousParameterRanges": [
            {"name": "lr", "min_value": "0.001", "max_value": "0.1", "scaling_type": "Auto"}
        ],
        "CategoricalParameterRanges": [{"name": "opt", "values": ["adam"]}],
        "IntegerParameterRanges": [
            {"name": "n", "min_value": "1", "max_value": "4", "scaling_type": "Auto"}
        ],
    }
    assert list(ranges) == [
        "ContinuousParameterRanges",
        "CategoricalParameterRanges",
        "IntegerParameterRanges",
    ]
    assert tuner.hyperparameter_ranges_dict() is None


# -- override_resource_config -----------------------------------------------------------------


def test_override_resource_config(
    sageyard_home: Path,
    two_trainers: dict[str, ModelTrainer],
    make_tuner: Callable[..., HyperparameterTuner],
    captured: list[TuningJobSpec],
) -> None:
    config = HyperParameterTuningInstanceConfig(
        instance_type="ml.m5.large", instance_count=1, volume_size_in_gb=50
    )
    tuner = create(two_trainers)
    with pytest.raises(ValueError, match=r"unknown trainers \['c'\]"):
        tuner.override_resource_config({"c": [config]})
    with pytest.raises(ValueError, match="instance_configs must not be empty"):
        tuner.override_resource_config([])
    tuner.override_resource_config({"b": [config]})
    tuner.tune(wait=False)
    a, b = captured[0].definitions
    assert b.template.host_groups[0].instance_type == "ml.m5.large"
    assert b.template.volume_size_in_gb == 50
    assert a.template.host_groups[0].instance_type != "ml.m5.large"
    single = make_tuner()
    single.override_resource_config([config])
    single.tune(wait=False)
    assert captured[1].definitions[0].template.host_groups[0].instance_type == "ml.m5.large"


# -- before any tuning job ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "method", ["wait", "describe", "best_training_job", "stop_tuning_job", "analytics"]
)
def test_results_need_a_tuning_job(
    make_tuner: Callable[..., HyperparameterTuner], method: str
) -> None:
    with pytest.raises(RuntimeError, match=r"No tuning job has been started yet"):
        getattr(make_tuner(), method)()


def test_missing_optuna_names_the_extra(
    sageyard_home: Path,
    make_tuner: Callable[..., HyperparameterTuner],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = search.importlib.util.find_spec
    monkeypatch.setattr(
        search.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "optuna" else real(name, *a),
    )
    with pytest.raises(ImportError, match=r"pip install 'sageyard\[tuning\]'"):
        make_tuner().tune(wait=False)
    assert_nothing_written(sageyard_home)
